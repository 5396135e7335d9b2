/**
 * Reader policy: which processes may read a mount. Pure data and pure decisions, so that the rules can be shown,
 * stored in the registry and tested without processes.
 *
 * Rule text (as given to `--allow` / `--deny`):
 * - `any`                 with --allow: every reader of this user (mode "any"); with --deny: every reader not allowed
 * - `NAME` or `exe:NAME`  the executable: a glob on its basename, or on its full path when it contains a `/`
 * - `argv:GLOB`           the command line, arguments joined by spaces, with the mount's own location taken out
 *                         (argv-location.ts): naming the mount is not what makes a rule match
 * - `ancestor:GLOB`       any ancestor up to the session leader, by executable (as exe:) or command line (as argv:)
 * Deny rules win over allow rules; a reader no rule matches gets the fallback: ask (the default), allow or deny.
 */
import { type MountLocation, withoutLocation } from './argv-location.js';
import { EnvmountError } from './errors.js';

export type Fallback = 'allow' | 'ask' | 'deny';
export type RuleKind = 'exe' | 'argv' | 'ancestor';

export interface Rule {
  readonly effect: 'allow' | 'deny';
  readonly kind: RuleKind;
  readonly pattern: string;
}

export interface Policy {
  readonly fallback: Fallback;
  readonly rules: readonly Rule[];
}

export interface ProcessFacts {
  readonly exe: string;
  readonly argv: readonly string[];
  /** The working directory, against which arguments naming the mount are resolved. */
  readonly cwd?: string;
}

export interface ReaderFacts extends ProcessFacts {
  /** Parent first, up to the session leader. */
  readonly ancestors: readonly ProcessFacts[];
}

export type Decision = { readonly verdict: 'allow' | 'deny' | 'ask'; readonly rule: Rule | undefined };

export const DEFAULT_POLICY: Policy = { fallback: 'ask', rules: [] };

/** Whether a policy never needs to know the reader (every read is served). */
export function needsNoDecision(policy: Policy): boolean {
  return policy.fallback === 'allow' && policy.rules.every((r) => r.effect === 'allow');
}

export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function matchesExe(pattern: string, exe: string): boolean {
  return globToRegExp(pattern).test(pattern.includes('/') ? exe : basename(exe));
}

function matchesArgv(pattern: string, process: ProcessFacts, location: MountLocation | undefined): boolean {
  const argv = location ? withoutLocation(process.argv, process.cwd, location) : process.argv;
  return globToRegExp(pattern).test(argv.join(' '));
}

/** Whether a rule matches; `location`: the mount's, taken out of command lines before `argv:` matching. */
export function ruleMatches(rule: Rule, facts: ReaderFacts, location?: MountLocation): boolean {
  switch (rule.kind) {
    case 'exe':
      return matchesExe(rule.pattern, facts.exe);
    case 'argv':
      return matchesArgv(rule.pattern, facts, location);
    case 'ancestor':
      return facts.ancestors.some((a) => matchesExe(rule.pattern, a.exe) || matchesArgv(rule.pattern, a, location));
  }
}

export function decide(policy: Policy, facts: ReaderFacts, location?: MountLocation): Decision {
  const deny = policy.rules.find((r) => r.effect === 'deny' && ruleMatches(r, facts, location));
  if (deny) return { verdict: 'deny', rule: deny };
  const allow = policy.rules.find((r) => r.effect === 'allow' && ruleMatches(r, facts, location));
  if (allow) return { verdict: 'allow', rule: allow };
  return { verdict: policy.fallback, rule: undefined };
}

export function parseRule(text: string, effect: 'allow' | 'deny'): Rule {
  const match = /^(exe|argv|ancestor):(.*)$/s.exec(text);
  const kind = (match?.[1] ?? 'exe') as RuleKind;
  const pattern = match ? (match[2] ?? '') : text;
  if (pattern.trim() === '') {
    throw new EnvmountError('USAGE', `The rule "${text}" has an empty pattern. Write for example --${effect} node.`);
  }
  return { effect, kind, pattern };
}

/** Builds a policy from `--allow` / `--deny` texts on top of `base`; `any` sets the fallback. */
export function buildPolicy(
  base: Policy,
  options: { allow?: readonly string[]; deny?: readonly string[]; fallback?: Fallback },
): Policy {
  let fallback = options.fallback ?? base.fallback;
  const rules = [...base.rules];
  for (const [effect, texts] of [
    ['allow', options.allow ?? []],
    ['deny', options.deny ?? []],
  ] as const) {
    for (const text of texts) {
      if (text === 'any') {
        fallback = effect;
        continue;
      }
      const rule = parseRule(text, effect);
      if (!rules.some((r) => r.effect === rule.effect && r.kind === rule.kind && r.pattern === rule.pattern)) {
        rules.push(rule);
      }
    }
  }
  return { fallback, rules };
}

export function describeRule(rule: Rule): string {
  return `${rule.effect} ${rule.kind}:${rule.pattern}`;
}

/** A word as a POSIX shell reads it back unchanged: bare when it holds no special character, else single-quoted. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** The `--allow` / `--deny` text that parses back to `rule` (a bare name only where it cannot mean anything else). */
export function ruleText(rule: Rule): string {
  const bare = rule.kind === 'exe' && rule.pattern !== 'any' && !/^(exe|argv|ancestor):/.test(rule.pattern);
  return bare ? rule.pattern : `${rule.kind}:${rule.pattern}`;
}

/** Shell-quoted flags that, after `--reset`, rebuild `policy` exactly (DEFAULT_POLICY's fallback is ask). */
export function policyFlags(policy: Policy): string[] {
  const flags = policy.rules.map((rule) => `--${rule.effect} ${shellWord(ruleText(rule))}`);
  return policy.fallback === 'ask' ? flags : [...flags, `--otherwise ${policy.fallback}`];
}

export function describePolicy(policy: Policy): string {
  if (needsNoDecision(policy) && policy.rules.length === 0) return 'any reader of this user (every read audited)';
  const rules = policy.rules.map(describeRule);
  return [...rules, `otherwise ${policy.fallback}`].join('; ');
}

/** `--allow` / `--deny` / `--otherwise` / `--reset` as given to add, import and policy. */
export interface PolicyOptions {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  readonly otherwise?: Fallback;
  /** Start from the default (ask) instead of the mount's current policy. */
  readonly reset?: boolean;
}

/** The policy after applying options to `base` (the caller picks DEFAULT_POLICY for --reset). */
export function applyPolicyOptions(base: Policy, options: PolicyOptions): Policy {
  const built = buildPolicy(base, {
    ...(options.allow ? { allow: options.allow } : {}),
    ...(options.deny ? { deny: options.deny } : {}),
  });
  return options.otherwise ? { ...built, fallback: options.otherwise } : built;
}
