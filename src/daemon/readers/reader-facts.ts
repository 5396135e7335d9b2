/**
 * A reader's facts for the verdict (core/reader-verdict.ts), from /proc: its executable, arguments, working
 * directory, parents (read once, when needed) and the coding agent that started it; and what an approval request
 * says about it. The /proc access is injected (ProcessDescriber), so tests can hand in processes of their own.
 */
import type { ReaderFacts } from '../../core/policy.js';
import { ruleText } from '../../core/policy.js';
import { identityOf } from '../../core/reader-identity.js';
import type { VerdictMount } from '../../core/reader-verdict.js';
import { alwaysProblem, narrowestRule } from '../../core/refusal-advice.js';
import { ancestorsOf, describeProcess, isSameProcess, type ProcessInfo } from './process-info.js';
import { agentOf } from './reader-description.js';

/** The effects the gate needs besides asking and auditing; tests inject their own. */
export interface ProcessDescriber {
  describe(pid: number): ProcessInfo | undefined;
  ancestors(info: ProcessInfo): ProcessInfo[];
  isSame(info: ProcessInfo): boolean;
}

export const PROC_DESCRIBER: ProcessDescriber = {
  describe: describeProcess,
  ancestors: ancestorsOf,
  isSame: isSameProcess,
};

export type Facts = ReaderFacts & { readonly chain: () => ProcessInfo[] };

/**
 * The coding agent that started a process: ProcessInfo's `agent` when process-info.ts fills it, else the first
 * recognised agent among the process and its parents (reader-description.ts, `agentOf`).
 */
function agentIn(info: ProcessInfo, chain: () => ProcessInfo[]): string | undefined {
  const own = (info as ProcessInfo & { readonly agent?: string }).agent;
  if (own !== undefined) return own;
  for (const p of [info, ...chain()]) {
    const agent = agentOf(p);
    if (agent) return agent;
  }
  return undefined;
}

/** Facts for the verdict; the parent chain is read from /proc once, when a rule or the agent check needs it. */
export function factsOf(info: ProcessInfo, processes: ProcessDescriber = PROC_DESCRIBER): Facts {
  let ancestors: ProcessInfo[] | undefined;
  const chain = () => {
    ancestors ??= processes.ancestors(info);
    return ancestors;
  };
  return {
    exe: info.exe,
    argv: info.argv,
    cwd: info.cwd,
    get ancestors() {
      return chain();
    },
    agent: agentIn(info, chain),
    chain,
  };
}

/** What an approval request says about the reader: its identity, its agent, what `--always` would store. */
export function whoFor(mount: VerdictMount, facts: ReaderFacts) {
  const problem = alwaysProblem(facts, mount.policy, mount.location);
  const rule = narrowestRule(facts, mount.location);
  return {
    identity: identityOf(facts),
    ...(facts.agent !== undefined ? { agent: facts.agent } : {}),
    always: problem || !rule ? { problem: problem ?? 'no rule names it' } : { rule: ruleText(rule) },
  };
}
