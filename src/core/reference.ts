/**
 * Secret references: `op://vault/item[/section]/field[?attribute=...]` for 1Password and `envmount://NAME` for the
 * embedded store. Parsing is strict so that a typo fails at `envmount add`, never at a read.
 */
import { EnvmountError } from './errors.js';

export interface OpReference {
  readonly scheme: 'op';
  readonly raw: string;
  readonly vault: string;
  readonly item: string;
  readonly section: string | undefined;
  readonly field: string;
  readonly query: Readonly<Record<string, string>>;
}

export interface StoreReference {
  readonly scheme: 'envmount';
  readonly raw: string;
  readonly name: string;
}

/** A variable of a 1Password Environment (`envmount add --environment ID`); made by envmount, never parsed. */
export interface EnvironmentReference {
  readonly scheme: 'op-environment';
  readonly raw: string;
  readonly environment: string;
  readonly name: string;
}

export type Reference = OpReference | StoreReference | EnvironmentReference;

export function environmentReference(environment: string, name: string): EnvironmentReference {
  return { scheme: 'op-environment', raw: `op-environment://${environment}/${name}`, environment, name };
}

export const KNOWN_SCHEMES = ['op', 'envmount'] as const;

/** Store names envmount keeps for itself (the 1Password service-account token): no reference reaches them. */
export const RESERVED_PREFIX = '_envmount/';

/** Whether a store name is envmount's own (any case: nothing that could name it is let through). */
export function isReservedName(name: string): boolean {
  return name.toLowerCase().startsWith(RESERVED_PREFIX);
}

/** Names in the embedded store: letters, digits and `_ . - /`, starting with a letter, digit or `_`. */
const STORE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,199}$/;
const OP_QUERY: Readonly<Record<string, readonly string[]>> = {
  attribute: ['type', 'value', 'title', 'id', 'purpose'],
  'ssh-format': ['openssh'],
};
/** What 1Password accepts in a vault, item, section or field name (the SDK's validator; op's docs say the same). */
const OP_NAME_CHARS = /^[A-Za-z0-9_. -]+$/;
const ONE_TIME = ['otp', 'totp'];

/** Why envmount refuses one-time passwords: it serves values from a cache, and a code lives about 30 s. */
export const ONE_TIME_PASSWORD_PROBLEM =
  'a one-time password (attribute=otp) changes every 30 s, and envmount serves values from a cache kept for minutes (up to the grace period when 1Password is unreachable), so readers would get expired codes; read it when you need it with `op read`';

/** Whether an op:// reference asks for a one-time password (parsed or not). */
export function asksOneTimePassword(raw: string): boolean {
  const query = raw.split('?')[1] ?? '';
  return query.split('&').some((pair) => {
    const [key = '', value = ''] = pair.split('=', 2);
    return key.toLowerCase() === 'attribute' && ONE_TIME.includes(value.toLowerCase());
  });
}

export function isStoreName(name: string): boolean {
  return STORE_NAME.test(name) && !name.includes('//') && !name.endsWith('/');
}

export function storeNameProblem(name: string): string | undefined {
  if (isStoreName(name)) return undefined;
  return `"${name}" is not a valid name: use letters, digits and _ . - / (for example DATABASE_URL or app/API_KEY)`;
}

/** The scheme of text that looks like `scheme://...`, lower-cased, or undefined. */
export function schemeOf(text: string): string | undefined {
  const match = /^([A-Za-z0-9][A-Za-z0-9+.-]*):\/\//.exec(text);
  return match?.[1]?.toLowerCase();
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length] ?? 0;
}

/** A known scheme that `scheme` is probably a typo of (`0p`, `envmout`, `OP` written oddly), or undefined. */
export function likelyTypoOf(scheme: string): string | undefined {
  for (const known of KNOWN_SCHEMES) {
    if (scheme === known) return undefined;
    if (editDistance(scheme, known) <= (known.length <= 2 ? 1 : 2)) return known;
  }
  return undefined;
}

function invalid(raw: string, why: string): EnvmountError {
  return new EnvmountError('REFERENCE_INVALID', `Invalid reference "${raw}": ${why}.`);
}

function parseOp(raw: string): OpReference {
  const body = raw.slice('op://'.length);
  const mark = body.indexOf('?');
  const path = mark === -1 ? body : body.slice(0, mark);
  const queryText = mark === -1 ? undefined : body.slice(mark + 1);
  const segments = path.split('/');
  if (segments.length < 3 || segments.length > 4) {
    throw invalid(raw, 'use op://vault/item/field or op://vault/item/section/field');
  }
  for (const segment of segments) {
    if (segment.trim() === '') throw invalid(raw, 'a vault, item, section or field name is empty');
    if (segment.includes('$')) {
      throw invalid(raw, '`$` is not allowed in a reference (`op inject` would expand it as a variable)');
    }
    if (!OP_NAME_CHARS.test(segment)) {
      throw invalid(
        raw,
        `"${segment}" has a character 1Password does not accept in a reference (only letters, digits, _ . - and spaces); use its ID instead (\`op item get --format json\` shows IDs)`,
      );
    }
  }
  const query: Record<string, string> = {};
  const pairs = queryText === undefined ? [] : queryText.split('&');
  if (pairs.length > 1) throw invalid(raw, '1Password accepts one query parameter per reference');
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    if (key === 'attribute' && ONE_TIME.includes(value.toLowerCase())) throw invalid(raw, ONE_TIME_PASSWORD_PROBLEM);
    const allowed = OP_QUERY[key];
    if (!allowed) throw invalid(raw, `unknown query parameter "${key}" (use attribute= or ssh-format=)`);
    if (!allowed.includes(value)) {
      throw invalid(
        raw,
        allowed.includes(value.toLowerCase())
          ? `write ${key}=${value.toLowerCase()} in lower case (1Password refuses ${value})`
          : `${key} must be one of ${allowed.join(', ')}`,
      );
    }
    query[key] = value;
  }
  const [vault = '', item = '', third = '', fourth] = segments;
  return fourth === undefined
    ? { scheme: 'op', raw, vault, item, section: undefined, field: third, query }
    : { scheme: 'op', raw, vault, item, section: third, field: fourth, query };
}

/** Parses a reference; throws REFERENCE_INVALID naming the reference and the fix. */
export function parseReference(raw: string): Reference {
  const scheme = schemeOf(raw);
  if (scheme === 'op' && raw.startsWith('op://')) return parseOp(raw);
  if (scheme === 'envmount' && raw.startsWith('envmount://')) {
    const name = raw.slice('envmount://'.length);
    const problem = storeNameProblem(name);
    if (problem) throw invalid(raw, problem);
    if (isReservedName(name)) {
      throw invalid(
        raw,
        `names starting with ${RESERVED_PREFIX} are envmount's own (its 1Password token): no template, run, environment or agent reads them; use a name of your own (\`envmount set NAME\`)`,
      );
    }
    return { scheme: 'envmount', raw, name };
  }
  if (scheme === 'op' || scheme === 'envmount') throw invalid(raw, `write the scheme in lower case: ${scheme}://`);
  const typo = scheme ? likelyTypoOf(scheme) : undefined;
  throw invalid(
    raw,
    typo ? `unknown scheme "${scheme}://" (did you mean ${typo}://?)` : 'only op:// and envmount:// are supported',
  );
}
