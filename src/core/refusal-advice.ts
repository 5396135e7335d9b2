/**
 * What to run so that the next read of a refused reader goes through, and the narrowest rule that names a reader
 * (what `approve --always` stores). Every command is printed with shell-quoted words, to be run as printed
 * (test/daemon/readers/refusal-advice.test.ts runs each one and reads again). Pure.
 */
import { type MountLocation, withoutLocation } from './argv-location.js';
import { type Policy, type ReaderFacts, type Rule, ruleMatches, ruleText, shellWord } from './policy.js';
import { scriptOf } from './reader-identity.js';

/** A glob that matches `text` itself: `*` and `?` in it match any character there (the glob has no escape). */
function literalGlob(text: string): string {
  return text.replace(/[*?]/g, '?');
}

/** An executable path as the `exe:` part of a compound rule (a word without spaces: a space becomes `?`). */
function exeWord(exe: string): string {
  return literalGlob(exe).replace(/\s/g, '?');
}

/**
 * The narrowest allow rule for a reader: an interpreter with the script it runs, or an executable with its
 * arguments (the mount's location taken out). Inline code, stdin or a REPL: none (approvable for one read only).
 */
export function narrowestRule(facts: ReaderFacts, location: MountLocation): Rule | undefined {
  if (facts.exe === '?') return undefined;
  const script = scriptOf(facts);
  if (script && script.kind !== 'file') return undefined;
  const exe = exeWord(facts.exe);
  if (script) return { effect: 'allow', kind: 'script', pattern: literalGlob(script.path), exe };
  return {
    effect: 'allow',
    kind: 'argv',
    pattern: literalGlob(withoutLocation(facts.argv, facts.cwd, location).join(' ')),
    exe,
  };
}

/** Why no rule can be stored for this reader, or undefined when one can (for an agent's reader under `ask`: a script). */
export function alwaysProblem(facts: ReaderFacts, policy: Policy, location: MountLocation): string | undefined {
  const rule = narrowestRule(facts, location);
  if (!rule) return 'its program is inline code (or read from standard input): it can be approved for one read only';
  if (facts.agent !== undefined && (policy.agents ?? 'ask') === 'ask' && rule.kind !== 'script') {
    return `it was started by ${facts.agent}, and with --agents ask only a script can be allowed always`;
  }
  return undefined;
}

const flag = (effect: string, rule: Rule) => `--${effect} ${shellWord(ruleText(rule))}`;
const removeFlag = (rule: Rule) => `--remove ${shellWord(`${rule.effect} ${ruleText(rule)}`)}`;
const APPROVE = 'then approve its next read with `envmount approve`';

export interface AdviceInput {
  readonly dir: string;
  readonly policy: Policy;
  readonly location: MountLocation;
  readonly facts: ReaderFacts;
}

/** The words after `envmount policy DIR` that would allow the reader by a rule, or undefined if no rule can. */
function allowFlags(input: AdviceInput): string[] | undefined {
  const rule = narrowestRule(input.facts, input.location);
  if (!rule || alwaysProblem(input.facts, input.policy, input.location)) return undefined;
  return [flag('allow', rule)];
}

function command(dir: string, words: readonly string[]): string {
  return `\`envmount policy ${shellWord(dir)} ${words.join(' ')}\``;
}

/**
 * What to run when a policy refused a reader: remove the deny rules that match it (deny wins over any allow),
 * allow it by its narrowest rule, or, for agents refused by `--agents deny`, ask about them again. When no rule
 * can allow it (inline code, an agent's non-script reader), the command lets its next read ask, and says to approve.
 */
export function deniedAdvice(input: AdviceInput, byAgents: boolean): string {
  const { dir, policy, location, facts } = input;
  const words: string[] = [];
  if (byAgents) words.push('--agents ask');
  const denies = policy.rules.filter((r) => r.effect === 'deny' && ruleMatches(r, facts, location));
  words.push(...denies.map(removeFlag));
  // After `--agents ask`, only a script rule serves an agent's reader: judge what to allow under that setting.
  const allow = allowFlags(byAgents ? { ...input, policy: { ...policy, agents: 'ask' } } : input);
  if (allow) words.push(...allow);
  else if (policy.fallback === 'deny') words.push('--otherwise ask');
  if (words.length === 0) words.push('--otherwise ask');
  return allow ? command(dir, words) : `${command(dir, words)}, ${APPROVE}`;
}

/** For a read that asked and got no yes (timed out, or denied by the user). */
export function approveAdvice(input: AdviceInput): string {
  const allow = allowFlags(input);
  const approve = 'approve its next read with `envmount approve`';
  return allow ? `${command(input.dir, allow)}, or ${approve}` : approve;
}
