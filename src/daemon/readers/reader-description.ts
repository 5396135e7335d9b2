/**
 * What a person is shown before approving a read: fixed lines of facts the reader cannot forge, then what it says
 * about itself. From the kernel: the executable (/proc/PID/exe, not argv[0]), the working directory and the parent
 * chain up to the session leader, with a coding agent named when one is in it. From the reader's own arguments: the
 * script when the executable is an interpreter, and the command line, last, quoted and escaped. Every line is plain
 * text; each dialog encodes it its own way (desktop-prompt.ts).
 */
import { basename } from 'node:path';
import { type Script, scriptOf } from '../../core/reader-identity.js';
import { commandLine, truncate, visible } from '../../core/visible-text.js';
import { AGENTS, agentOf } from './agents.js';
import type { ProcessInfo } from './process-info.js';

/** One reading of a reader's script for rules, grants and the dialog: core/reader-identity.ts. */
export { AGENTS, agentOf, type Script, scriptOf };

const FIELD_MAX = 240;
const COMMAND_MAX = 600;
const PARENTS_SHOWN = 8;

function field(text: string): string {
  return truncate(visible(text), FIELD_MAX);
}

function program(info: ProcessInfo): string {
  return info.exe === '?' ? 'unknown (its executable is not readable)' : field(info.exe);
}

function scriptLine(info: ProcessInfo): string {
  const script = scriptOf(info);
  if (!script) return 'none (not an interpreter)';
  if (script.kind === 'inline') return `none: its program is in its arguments (${field(script.option)})`;
  if (script.kind === 'stdin') return 'none named (reads its program from standard input)';
  return `${field(script.path)} (named in its arguments)`;
}

/** A parent as `name (pid N)`, with its script's name when it is an interpreter. */
function parentName(info: ProcessInfo): string {
  const script = scriptOf(info);
  const name = basename(info.exe) + (script?.kind === 'file' ? ` ${basename(script.path)}` : '');
  const leader = info.pid === info.sid ? ', session leader' : '';
  return `${truncate(visible(name), 80)} (pid ${info.pid}${leader})`;
}

function parentsLine(ancestors: readonly ProcessInfo[]): string {
  if (ancestors.length === 0) return 'none (it leads its session, or its parent is init)';
  if (ancestors.length <= PARENTS_SHOWN) return ancestors.map(parentName).join(' < ');
  // The nearest ones and the last one (the session leader), the middle counted.
  const near = ancestors.slice(0, PARENTS_SHOWN - 1).map(parentName);
  const last = ancestors[ancestors.length - 1] as ProcessInfo;
  return [...near, `... (+${ancestors.length - PARENTS_SHOWN} more)`, parentName(last)].join(' < ');
}

function agentLine(reader: ProcessInfo, ancestors: readonly ProcessInfo[]): string {
  for (const info of [reader, ...ancestors]) {
    const agent = agentOf(info);
    if (agent) return `${field(agent)} (pid ${info.pid}${info === reader ? ', the reader itself' : ''})`;
  }
  if (reader.agent) return `${field(reader.agent)} (a parent beyond the session leader)`;
  return `none of ${AGENTS.join(', ')} in the parent chain`;
}

/**
 * The dialog's text, one fact a line: nothing a reader controls can add a line, start markup or hide a character
 * (each dialog still sends it as plain text). The command line comes last: it is what the reader says, not a fact.
 */
export function describeReader(mount: string, reader: ProcessInfo, ancestors: readonly ProcessInfo[]): string[] {
  return [
    `A program${reader.agent ? ` started by ${field(reader.agent)}` : ''} asks to read ${field(mount)}`,
    'Allow it only if you know it and expect it to read this file. Deny is the default.',
    '',
    `Program: ${program(reader)} (pid ${reader.pid})`,
    `Script: ${scriptLine(reader)}`,
    `Directory: ${reader.cwd === '?' ? 'unknown (not readable)' : field(reader.cwd)}`,
    `Agent: ${agentLine(reader, ancestors)}`,
    `Parents: ${parentsLine(ancestors)}`,
    '',
    'Command line (what the program says about itself; it can say anything):',
    commandLine(reader.argv, COMMAND_MAX),
  ];
}
