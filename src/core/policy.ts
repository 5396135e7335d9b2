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
 * - `script:GLOB`         the script an interpreter runs (core/reader-identity.ts): a glob on its full path, or on
 *                         its basename when it holds no `/`; `./` and `../` are resolved against the mount's directory
 * - `exe:GLOB script:GLOB`, `exe:GLOB argv:GLOB`  both at once (what `approve --always` stores: the narrowest rule)
 * Deny rules win over allow rules; a reader no rule matches gets the fallback: ask (the default), allow or deny.
 * Readers started by a coding agent are judged by the mount's `agents` setting first (core/reader-verdict.ts).
 */
import { type MountLocation, withoutLocation } from './argv-location.js';
import { scriptOf } from './reader-identity.js';

export type Fallback = 'allow' | 'ask' | 'deny';
export type RuleKind = 'exe' | 'argv' | 'ancestor' | 'script';
export const RULE_KINDS: readonly RuleKind[] = ['exe', 'argv', 'ancestor', 'script'];
/** What readers started by a coding agent get: always asked (default), refused, or judged as any reader. */
export type AgentsSetting = 'ask' | 'deny' | 'rules';
export const AGENTS_SETTINGS: readonly AgentsSetting[] = ['ask', 'deny', 'rules'];

export interface Rule {
  readonly effect: 'allow' | 'deny';
  readonly kind: RuleKind;
  readonly pattern: string;
  /** A glob on the executable that must match too (a compound rule: `exe:GLOB script:GLOB`). */
  readonly exe?: string;
  /** When `approve --always` stored it (such rules are listed as grants too). */
  readonly since?: string;
}

export interface Policy {
  readonly fallback: Fallback;
  readonly rules: readonly Rule[];
  /** Absent: ask. */
  readonly agents?: AgentsSetting;
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
  /** The coding agent that started it (a recognised ancestor's name), if any. */
  readonly agent?: string | undefined;
}

export type Decision = { readonly verdict: 'allow' | 'deny' | 'ask'; readonly rule: Rule | undefined };

export const DEFAULT_POLICY: Policy = { fallback: 'ask', rules: [] };

/** Whether a policy never needs to know the reader (every read is served, agents' too). */
export function needsNoDecision(policy: Policy): boolean {
  return policy.agents === 'rules' && policy.fallback === 'allow' && policy.rules.every((r) => r.effect === 'allow');
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
  if (rule.exe !== undefined && !matchesExe(rule.exe, facts.exe)) return false;
  switch (rule.kind) {
    case 'script': {
      const script = scriptOf(facts);
      return script?.kind === 'file' && matchesExe(rule.pattern, script.path);
    }
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

export function describeRule(rule: Rule): string {
  return `${rule.effect} ${rule.exe !== undefined ? `exe:${rule.exe} ` : ''}${rule.kind}:${rule.pattern}`;
}

/** A word as a POSIX shell reads it back unchanged: bare when it holds no special character, else single-quoted. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** The `--allow` / `--deny` text that parses back to `rule` (a bare name only where it cannot mean anything else). */
export function ruleText(rule: Rule): string {
  if (rule.exe !== undefined) return `exe:${rule.exe} ${rule.kind}:${rule.pattern}`;
  const bare =
    rule.kind === 'exe' && rule.pattern.toLowerCase() !== 'any' && !/^[A-Za-z][A-Za-z0-9_-]*:/.test(rule.pattern);
  return bare ? rule.pattern : `${rule.kind}:${rule.pattern}`;
}

/** Shell-quoted flags that, after `--reset`, rebuild `policy` exactly (DEFAULT_POLICY's fallback is ask). */
export function policyFlags(policy: Policy): string[] {
  const flags = policy.rules.map((rule) => `--${rule.effect} ${shellWord(ruleText(rule))}`);
  if (policy.agents !== undefined && policy.agents !== 'ask') flags.push(`--agents ${policy.agents}`);
  return policy.fallback === 'ask' ? flags : [...flags, `--otherwise ${policy.fallback}`];
}

export function describePolicy(policy: Policy): string {
  if (policy.fallback === 'allow' && policy.rules.length === 0) {
    const agents = {
      ask: ' but readers started by a coding agent, who are asked',
      deny: ' but readers started by a coding agent',
      rules: ', agents included',
    }[policy.agents ?? 'ask'];
    return `any reader of this user${agents} (every read audited)`;
  }
  const rules = policy.rules.map(describeRule);
  const agents = policy.agents === undefined || policy.agents === 'ask' ? [] : [`agents ${policy.agents}`];
  return [...rules, `otherwise ${policy.fallback}`, ...agents].join('; ');
}
