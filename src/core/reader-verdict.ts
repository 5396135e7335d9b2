/**
 * The verdict on one read of a mount that needs a decision: the facts of every process holding the pipe and the
 * mount's policy in, the outcome out (serve, refuse with the rule that refused and a fix, ask, or refuse a
 * collision). Pure: the holders, the process descriptions, grants (already checked against the clock) come in as
 * data; the caller (src/daemon/readers/reader-gate.ts) does the effects: finding holders, asking, finishing the
 * ticket, auditing. The table test is test/core/reader-verdict.test.ts.
 *
 * Order for one reader: unidentified (no executable) is refused; deny rules win over everything, grants included;
 * a reader started by a coding agent then meets the mount's `agents` setting (deny: refused; ask: served only by a
 * grant or a `script:` allow rule, never by a broad rule or `--otherwise allow`; rules: judged as any reader);
 * then a grant, then allow rules, then the fallback.
 */
import type { MountLocation } from './argv-location.js';
import { decide, describeRule, type Policy, type ReaderFacts, type Rule, ruleMatches } from './policy.js';
import { approveAdvice, deniedAdvice } from './refusal-advice.js';

export interface VerdictMount {
  readonly dir: string;
  readonly policy: Policy;
  readonly location: MountLocation;
}

export interface VerdictReader {
  /** exe `?`: no thread of it shows its executable. */
  readonly facts: ReaderFacts;
  /** Whether a `--for` grant covers this reader now. */
  readonly granted: boolean;
}

/** One reader's judgement and what decided it (for the audit log and `policy DIR`). */
export interface Judgement {
  readonly verdict: 'allow' | 'deny' | 'ask' | 'unidentified';
  readonly rule: Rule | undefined;
  /** What decided, in words: `allow script:/app/server.js`, `grant`, `otherwise ask`, `agents deny (claude)`. */
  readonly basis: string;
  /** Refused by `--agents deny`. */
  readonly byAgents?: boolean;
}

export type Outcome =
  | { readonly kind: 'serve'; readonly judgements: readonly Judgement[] }
  | {
      readonly kind: 'refuse';
      readonly decision: 'denied' | 'unidentified' | 'collision';
      /** The index of the reader the refusal names, if any was identified. */
      readonly reader: number | undefined;
      readonly rule: Rule | undefined;
      readonly basis: string;
      readonly why: string;
      readonly fix: string;
      /** Several processes held the pipe and not all may read (the caller counts a collision). */
      readonly collision: boolean;
    }
  | { readonly kind: 'ask'; readonly reader: 0; readonly basis: string };

const UNKNOWN_EXE = '?';

export function judgeReader(mount: VerdictMount, reader: VerdictReader): Judgement {
  const { policy, location } = mount;
  const { facts } = reader;
  if (facts.exe === UNKNOWN_EXE) return { verdict: 'unidentified', rule: undefined, basis: 'unidentified' };
  const deny = policy.rules.find((r) => r.effect === 'deny' && ruleMatches(r, facts, location));
  if (deny) return { verdict: 'deny', rule: deny, basis: describeRule(deny) };
  const setting = policy.agents ?? 'ask';
  if (facts.agent !== undefined && setting !== 'rules') {
    if (setting === 'deny') {
      return { verdict: 'deny', rule: undefined, basis: `agents deny (${facts.agent})`, byAgents: true };
    }
    if (reader.granted) return { verdict: 'allow', rule: undefined, basis: 'grant' };
    const script = policy.rules.find(
      (r) => r.effect === 'allow' && r.kind === 'script' && ruleMatches(r, facts, location),
    );
    if (script) return { verdict: 'allow', rule: script, basis: describeRule(script) };
    if (policy.fallback === 'deny') return { verdict: 'deny', rule: undefined, basis: 'otherwise deny' };
    return { verdict: 'ask', rule: undefined, basis: `agents ask (${facts.agent})` };
  }
  if (reader.granted) return { verdict: 'allow', rule: undefined, basis: 'grant' };
  const decision = decide(policy, facts, location);
  const basis = decision.rule ? describeRule(decision.rule) : `otherwise ${policy.fallback}`;
  return { verdict: decision.verdict, rule: decision.rule, basis };
}

/** Why a reader was refused, in the words of the rule (or setting) that refused it. */
export function refusalWhy(judgement: Judgement, facts: ReaderFacts): string {
  if (judgement.byAgents) {
    return `it was started by ${facts.agent}, and this mount refuses readers started by an agent (--agents deny)`;
  }
  if (judgement.rule) return `the rule "${describeRule(judgement.rule)}" refuses it`;
  return 'this mount refuses readers no rule allows (--otherwise deny)';
}

export function verdict(mount: VerdictMount, readers: readonly VerdictReader[]): Outcome {
  const judgements = readers.map((r) => judgeReader(mount, r));
  const collision = readers.length > 1 && !judgements.every((j) => j.verdict === 'allow');
  const refuse = (
    decision: 'denied' | 'unidentified' | 'collision',
    reader: number | undefined,
    why: string,
    fix: string,
    judgement?: Judgement,
  ): Outcome => ({
    kind: 'refuse',
    decision,
    reader,
    rule: judgement?.rule,
    basis: judgement?.basis ?? decision,
    why,
    fix,
    collision,
  });
  if (readers.length === 0) {
    const why = 'the process that opened the file could not be identified (it may have exited)';
    return refuse('unidentified', undefined, why, 'read it again from a process that stays open until it reads');
  }
  const blind = judgements.findIndex((j) => j.verdict === 'unidentified');
  if (blind !== -1) {
    return refuse(
      'unidentified',
      blind,
      'its executable cannot be read (/proc/PID/exe), so no rule can judge it',
      'read it from a process whose executable can be read (one whose main thread has not exited)',
      judgements[blind],
    );
  }
  const denied = judgements.findIndex((j) => j.verdict === 'deny');
  if (denied !== -1) {
    const judgement = judgements[denied] as Judgement;
    const facts = (readers[denied] as VerdictReader).facts;
    const input = { dir: mount.dir, policy: mount.policy, location: mount.location, facts };
    const fix = deniedAdvice(input, judgement.byAgents === true);
    return refuse(readers.length > 1 ? 'collision' : 'denied', denied, refusalWhy(judgement, facts), fix, judgement);
  }
  if (judgements.every((j) => j.verdict === 'allow')) return { kind: 'serve', judgements };
  if (readers.length > 1) {
    const why = `${readers.length} processes opened the file at the same instant and share one pipe`;
    return refuse('collision', 0, why, 'read through `envmount run`, or give each consumer its own mount (--path)');
  }
  return { kind: 'ask', reader: 0, basis: (judgements[0] as Judgement).basis };
}

/** The fix for a reader that asked and got no yes. */
export function unansweredFix(mount: VerdictMount, facts: ReaderFacts): string {
  return approveAdvice({ dir: mount.dir, policy: mount.policy, location: mount.location, facts });
}
