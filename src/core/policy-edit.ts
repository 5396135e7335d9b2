/**
 * Changing a policy: parsing rule texts (an unknown kind is a usage error listing the kinds), refusing a rule that
 * contradicts a stored one, warning when a deny rule wins over a new allow, removing one rule. Pure.
 */
import { posix } from 'node:path';
import { EnvmountError } from './errors.js';
import {
  type AgentsSetting,
  describeRule,
  type Fallback,
  globToRegExp,
  type Policy,
  RULE_KINDS,
  type Rule,
  type RuleKind,
  ruleText,
  shellWord,
} from './policy.js';

const KIND_LIST = `${RULE_KINDS.map((k) => `${k}:GLOB`).join(', ')}, a bare NAME (exe:NAME) or any`;

/** Parses `--allow` / `--deny` text; `dir`: the mount's directory, against which `script:./x` is resolved. */
export function parseRule(text: string, effect: 'allow' | 'deny', dir?: string): Rule {
  const compound = /^exe:(\S+) (script|argv):(.*)$/s.exec(text);
  if (compound) {
    const inner = parseRule(`${compound[2]}:${compound[3]}`, effect, dir);
    return { ...inner, exe: compound[1] ?? '' };
  }
  const prefix = /^([A-Za-z][A-Za-z0-9_-]*):/.exec(text)?.[1];
  if (prefix !== undefined && !(RULE_KINDS as readonly string[]).includes(prefix)) {
    throw new EnvmountError('USAGE', `The rule "${text}" has an unknown kind "${prefix}:". Rules are ${KIND_LIST}.`);
  }
  if (prefix === undefined && text.toLowerCase() === 'any' && text !== 'any') {
    throw new EnvmountError('USAGE', `The rule "${text}" is not a rule: write any in lower case (every reader).`);
  }
  const kind = (prefix ?? 'exe') as RuleKind;
  let pattern = prefix !== undefined ? text.slice(prefix.length + 1) : text;
  if (pattern.trim() === '') {
    throw new EnvmountError('USAGE', `The rule "${text}" has an empty pattern. Write for example --${effect} node.`);
  }
  if (kind === 'script' && dir !== undefined && /^\.\.?\//.test(pattern)) pattern = posix.resolve(dir, pattern);
  return { effect, kind, pattern };
}

function sameRule(a: Rule, b: Rule): boolean {
  return a.effect === b.effect && a.kind === b.kind && a.pattern === b.pattern && a.exe === b.exe;
}

/** Refuses a rule that says the opposite of a stored one about the same readers; warns when a deny wins over it. */
function contradiction(rule: Rule, rules: readonly Rule[], warnings: string[]): void {
  const opposite = rules.find(
    (r) => r.effect !== rule.effect && r.kind === rule.kind && r.pattern === rule.pattern && r.exe === rule.exe,
  );
  if (opposite) {
    throw new EnvmountError(
      'USAGE',
      `The rule "${describeRule(rule)}" contradicts "${describeRule(opposite)}" (deny wins). Remove one with \`envmount policy DIR --remove ${shellWord(`${opposite.effect} ${ruleText(opposite)}`)}\`.`,
    );
  }
  const allow = rule.effect === 'allow' ? rule : undefined;
  const covering = rules.find(
    (r) =>
      r.effect === 'deny' &&
      allow &&
      r.exe === undefined &&
      r.kind === allow.kind &&
      globToRegExp(r.pattern).test(allow.pattern),
  );
  if (allow && covering)
    warnings.push(
      `"${describeRule(covering)}" wins over "${describeRule(allow)}": deny rules win, so that allow never applies`,
    );
}

/** Builds a policy from `--allow` / `--deny` texts on top of `base`; `any` sets the fallback. Warnings are pushed. */
export function buildPolicy(
  base: Policy,
  options: { allow?: readonly string[]; deny?: readonly string[]; fallback?: Fallback },
  dir?: string,
  warnings: string[] = [],
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
      const rule = parseRule(text, effect, dir);
      contradiction(rule, rules, warnings);
      if (!rules.some((r) => sameRule(r, rule))) rules.push(rule);
    }
  }
  for (const rule of rules) {
    if (
      rule.effect === 'allow' &&
      fallback === 'deny' &&
      rules.some((r) => r.effect === 'deny' && r.kind === 'exe' && r.pattern === '*' && r.exe === undefined)
    ) {
      warnings.push(`"deny exe:*" wins over "${describeRule(rule)}"`);
    }
  }
  return { ...base, fallback, rules };
}

/**
 * The policy without the rule `text` names (`deny exe:cat`, `allow node`, or just `cat`: any effect); `any`
 * puts the fallback back to ask. An unknown rule is a usage error that lists the rules.
 */
export function removeRule(policy: Policy, text: string, dir?: string): Policy {
  const effectWord = /^(allow|deny) (.*)$/s.exec(text);
  const body = effectWord ? (effectWord[2] ?? '') : text;
  if (body === 'any') return { ...policy, fallback: 'ask' };
  const wanted = parseRule(body, 'allow', dir);
  const effect = effectWord?.[1];
  const kept = policy.rules.filter(
    (r) => !((effect === undefined || r.effect === effect) && sameRule({ ...r, effect: 'allow' }, wanted)),
  );
  if (kept.length === policy.rules.length) {
    const stored = policy.rules.map((r) => `"${r.effect} ${ruleText(r)}"`).join(', ') || 'none';
    throw new EnvmountError('USAGE', `No rule "${text}" on this mount. Its rules: ${stored}.`);
  }
  return { ...policy, rules: kept };
}

/** `--allow` / `--deny` / `--otherwise` / `--agents` / `--remove` / `--reset` as given to add, import and policy. */
export interface PolicyOptions {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  readonly otherwise?: Fallback;
  readonly agents?: AgentsSetting;
  /** Rules to take out (as `removeRule` reads them), before the new ones are added. */
  readonly remove?: readonly string[];
  /** Start from the default (ask) instead of the mount's current policy. */
  readonly reset?: boolean;
}

/** The policy after applying options to `base` (the caller picks DEFAULT_POLICY for --reset); warnings pushed. */
export function applyPolicyOptions(
  base: Policy,
  options: PolicyOptions,
  dir?: string,
  warnings: string[] = [],
): Policy {
  let start = base;
  for (const text of options.remove ?? []) start = removeRule(start, text, dir);
  const built = buildPolicy(
    start,
    {
      ...(options.allow ? { allow: options.allow } : {}),
      ...(options.deny ? { deny: options.deny } : {}),
    },
    dir,
    warnings,
  );
  return {
    ...built,
    ...(options.otherwise ? { fallback: options.otherwise } : {}),
    ...(options.agents ? { agents: options.agents } : {}),
  };
}

/** Whether the options change a policy at all (`add` of a mounted directory with none keeps its policy). */
export function changesPolicy(o: PolicyOptions): boolean {
  return Boolean(o.allow?.length || o.deny?.length || o.otherwise || o.agents || o.remove?.length || o.reset);
}

/** The policy with `approve --always`'s rule added (dated), or undefined when it already has that rule. */
export function withAlwaysRule(policy: Policy, rule: Rule, now: Date): Policy | undefined {
  if (policy.rules.some((r) => describeRule(r) === describeRule(rule))) return undefined;
  return { ...policy, rules: [...policy.rules, { ...rule, since: now.toISOString() }] };
}
