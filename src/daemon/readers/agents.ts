/**
 * Coding agents among a process and its parents. Two ways to know one: by name (the last path segments of the
 * executable, argv[0] or the script an interpreter runs, such as node running .../@anthropic-ai/claude-code/cli.js),
 * and by registration: the parent of an `envmount mcp` server that spoke to the daemon is an MCP client, so an
 * agent, whatever its name (src/daemon/handlers.ts registers it; the daemon reads the peer's parent itself, so a
 * request can only mark processes, never unmark one). Names and pids only; nothing here is a value.
 */
import { basename, isAbsolute, resolve } from 'node:path';

/** Coding agents recognised by name when one of them is a process or one of its parents. */
export const AGENTS = [
  'claude',
  'codex',
  'cursor-agent',
  'cursor',
  'gemini',
  'aider',
  'opencode',
  'goose',
  'copilot',
  'crush',
  'qwen',
  'windsurf',
  'cline',
] as const;

/** What naming an agent needs of a process (structural: ProcessInfo fits, without importing it). */
export interface Named {
  readonly pid: number;
  readonly startTime: number;
  readonly exe: string;
  readonly argv: readonly string[];
  readonly cwd: string;
}

const INTERPRETER = /^(node|nodejs|bun|deno|python[0-9.]*|pypy[0-9.]*|ruby[0-9.]*|perl[0-9.]*|php[0-9.]*)$/;
/** Options of an interpreter that take the next argument as their value. */
const WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-W', '-X', '-I']);
/** Path segments that name a package scope or a wrapper, never the agent itself. */
const PACKAGING = new Set(['node', 'modules', 'bin', 'lib', 'dist', 'cli', 'index', 'js', 'mjs', 'cjs', 'main']);

/** The script file an interpreter runs, if it names one (its first non-option argument). */
function scriptFile(info: Pick<Named, 'exe' | 'argv' | 'cwd'>): string | undefined {
  if (!INTERPRETER.test(basename(info.exe))) return undefined;
  for (let i = 1; i < info.argv.length; i++) {
    const arg = info.argv[i] ?? '';
    if (arg === '--') return info.argv[i + 1];
    if (WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return isAbsolute(arg) || !isAbsolute(info.cwd) ? arg : resolve(info.cwd, arg);
    else if (/^-(e|c|p|m)$|^--(eval|print)$/.test(arg)) return undefined;
  }
  return undefined;
}

/** The agent a process is by name: the last three path segments of its executable, argv[0] and script. */
export function agentNameOf(info: Pick<Named, 'exe' | 'argv' | 'cwd'>): string | undefined {
  const paths = [info.exe, info.argv[0] ?? '', scriptFile(info) ?? ''];
  const segments = paths.flatMap((path) =>
    path
      .split('/')
      .slice(-3)
      .map((s) => s.toLowerCase()),
  );
  // "cursor-agent" is tried whole before its words; other agents match a word of a segment.
  for (const agent of AGENTS) {
    if (agent.includes('-') && segments.some((s) => s === agent || s.startsWith(`${agent}-`))) return agent;
  }
  const words = segments.flatMap((s) => s.split(/[^a-z0-9]+/)).filter((w) => !PACKAGING.has(w));
  return AGENTS.find((agent) => words.includes(agent));
}

/** What a registered process is called when its name is none of AGENTS: its script's or executable's name. */
export function clientNameOf(info: Pick<Named, 'exe' | 'argv' | 'cwd'>): string {
  const script = scriptFile(info);
  return basename(script ?? (info.exe === '?' ? (info.argv[0] ?? 'unknown') : info.exe)).slice(0, 80);
}

const MAX_REGISTERED = 64;

/**
 * Processes registered as agents, by pid, with their start time (a reused pid is another process). Owned here,
 * one per daemon (module state: process-info.ts consults it for every process it describes; handlers.ts adds).
 */
const registered = new Map<number, { readonly startTime: number; readonly name: string }>();

/** Registers a process as an agent called `name`; the oldest entry goes when the table is full. */
export function registerAgent(info: Pick<Named, 'pid' | 'startTime'>, name: string): void {
  registered.delete(info.pid);
  registered.set(info.pid, { startTime: info.startTime, name });
  if (registered.size > MAX_REGISTERED) registered.delete(registered.keys().next().value as number);
}

/** Forgets registered processes that are gone (`alive` says whether the pid is still the one registered). */
export function pruneAgents(alive: (pid: number, startTime: number) => boolean): void {
  for (const [pid, entry] of registered) if (!alive(pid, entry.startTime)) registered.delete(pid);
}

/** The name under which a process was registered as an agent, if it was. */
export function registeredAgent(info: Pick<Named, 'pid' | 'startTime'>): string | undefined {
  const entry = registered.get(info.pid);
  return entry && entry.startTime === info.startTime ? entry.name : undefined;
}

/** The agent a process is, by registration or by name. */
export function agentOf(info: Named): string | undefined {
  return registeredAgent(info) ?? agentNameOf(info);
}
