/**
 * Who a process is, from /proc (Linux): executable, command line, cwd, uid, start time and parents up to the
 * session leader. Reads are synchronous: procfs answers from memory, in microseconds. The start time guards
 * against pid reuse: a pid whose start time changed is another process.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { agentOf, clientNameOf, pruneAgents, registerAgent } from './agents.js';

export interface ProcessInfo {
  readonly pid: number;
  readonly uid: number;
  readonly exe: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  /** Clock ticks since boot (field 22 of /proc/PID/stat). */
  readonly startTime: number;
  readonly ppid: number;
  readonly sid: number;
  /** Controlling terminal device number, 0 when there is none. */
  readonly tty: number;
  /**
   * The coding agent this process is or was started by (agents.ts: recognised by name, or registered as the client
   * of an `envmount mcp`), found in it or its parents up to pid 1; absent when none. Read from /proc on first use.
   */
  readonly agent?: string;
}

const MAX_ANCESTORS = 32;

/** What `exe` is when no thread of the process shows its executable: such a reader is refused, never matched. */
export const UNKNOWN_EXE = '?';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function link(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return UNKNOWN_EXE;
  }
}

/** Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  const stat = read(`/proc/${pid}/stat`);
  const close = stat?.lastIndexOf(')') ?? -1;
  return stat && close !== -1 ? stat.slice(close + 2).split(' ') : undefined;
}

export function startTimeOf(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? Number(fields[19]) : undefined;
}

/**
 * The /proc directory to describe a process from: its own, or, when its main thread has exited (a zombie
 * thread-group leader, whose exe, cmdline and cwd read as nothing), that of a live thread of it.
 */
function liveTaskDir(pid: number): string {
  const own = `/proc/${pid}`;
  if (link(`${own}/exe`) !== UNKNOWN_EXE) return own;
  let tids: string[];
  try {
    tids = readdirSync(`${own}/task`);
  } catch {
    return own;
  }
  const live = tids.find((tid) => tid !== String(pid) && link(`${own}/task/${tid}/exe`) !== UNKNOWN_EXE);
  return live ? `${own}/task/${live}` : own;
}

/** The agent among a process and its parents (all of them, past session leaders: agents may start sessions). */
function agentAbove(info: ProcessInfo): string | undefined {
  const own = agentOf(info);
  if (own) return own;
  let ppid = info.ppid;
  for (let depth = 0; ppid > 1 && depth < MAX_ANCESTORS; depth++) {
    const parent = sketch(ppid);
    if (!parent) return undefined;
    const agent = agentOf(parent);
    if (agent) return agent;
    ppid = parent.ppid;
  }
  return undefined;
}

/** What naming an agent needs of a parent, in three reads (stat, exe, cmdline; cwd only for a relative script). */
function sketch(pid: number) {
  const fields = statFields(pid);
  if (!fields) return undefined;
  const argv = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').slice(0, 8);
  const relative = argv.slice(1).some((arg) => arg !== '' && !arg.startsWith('-') && !arg.startsWith('/'));
  return {
    pid,
    startTime: Number(fields[19]),
    ppid: Number(fields[1]),
    exe: link(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, ''),
    argv,
    cwd: relative ? link(`/proc/${pid}/cwd`) : '/',
  };
}

export function describeProcess(pid: number): ProcessInfo | undefined {
  const info = describeBare(pid);
  if (!info) return undefined;
  // `agent` is looked up when first read (a walk up /proc costs a few reads a parent): an enumerable getter, so
  // copies and JSON carry it.
  let agent: string | undefined | null = null;
  return Object.defineProperty(info, 'agent', {
    enumerable: true,
    get: () => {
      if (agent === null) agent = agentAbove(info);
      return agent;
    },
  });
}

function describeBare(pid: number): ProcessInfo | undefined {
  const fields = statFields(pid);
  if (!fields) return undefined;
  let uid: number;
  try {
    uid = statSync(`/proc/${pid}`).uid;
  } catch {
    return undefined;
  }
  const dir = liveTaskDir(pid);
  const cmdline = read(`${dir}/cmdline`) ?? '';
  return {
    pid,
    uid,
    exe: link(`${dir}/exe`).replace(/ \(deleted\)$/, ''),
    argv: cmdline.split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1),
    cwd: link(`${dir}/cwd`),
    // Fields after "(comm) ": state(0) ppid(1) pgrp(2) session(3) tty_nr(4) ... starttime(19).
    ppid: Number(fields[1]),
    sid: Number(fields[3]),
    tty: Number(fields[4]),
    startTime: Number(fields[19]),
  };
}

/** Parents of a process, nearest first, up to and including its session leader (or pid 1). */
export function ancestorsOf(info: ProcessInfo): ProcessInfo[] {
  const chain: ProcessInfo[] = [];
  let current = info;
  while (current.ppid > 1 && current.pid !== current.sid && chain.length < MAX_ANCESTORS) {
    const parent = describeProcess(current.ppid);
    if (!parent) break;
    chain.push(parent);
    current = parent;
  }
  return chain;
}

/** Whether `pid` is still the process described (same start time). */
export function isSameProcess(info: ProcessInfo): boolean {
  return startTimeOf(info.pid) === info.startTime;
}

/** A shell running one command (`sh -c ...`) or npx / `npm exec`: a wrapper that started the server, not the client. */
function isWrapper(info: ProcessInfo): boolean {
  if (/\/(ba|da|z|k)?sh$/.test(info.exe)) return info.argv.some((arg) => /^-[a-zA-Z]*c[a-zA-Z]*$/.test(arg));
  return info.argv.slice(0, 3).some((arg) => /(^|\/)(npx|npx-cli\.js|npm-cli\.js|npm)$/.test(arg));
}

/**
 * Registers the client of an `envmount mcp` server (the process `mcpPid`) as an agent: its parent, past wrappers
 * that only started it, unless an agent recognised by name is above it (its descendants are known then). A session
 * leader is never registered: that is a person's shell or terminal running `envmount mcp` by hand, not an agent.
 * Returns the agent's name, or undefined when there is none to register.
 */
export function registerAgentClient(mcpPid: number): string | undefined {
  pruneAgents((pid, startTime) => startTimeOf(pid) === startTime);
  const server = describeProcess(mcpPid);
  if (!server) return undefined;
  if (server.agent) return server.agent;
  let client = server.ppid > 1 ? describeBare(server.ppid) : undefined;
  for (let hops = 0; client && isWrapper(client) && client.ppid > 1 && hops < 3; hops++) {
    client = describeBare(client.ppid);
  }
  if (!client || client.pid === client.sid) return undefined;
  const name = clientNameOf(client);
  registerAgent(client, name);
  return name;
}
