/**
 * Who a reader is, for rules and approvals: for an interpreter (node, python, bash, ...) the interpreter plus the
 * script it runs, resolved against its working directory, or "inline code" when its program is in its arguments
 * (-e, -c, --eval), on standard input or typed at a REPL; for any other program its executable. Pure: the facts
 * come in as strings (from /proc on the daemon's side). What this does and does not prove: THREAT-MODEL.md.
 */
import { posix } from 'node:path';

/** Executables whose program is a script they load (by basename). */
const INTERPRETER =
  /^(node|nodejs|deno|bun|python[0-9.]*|pypy[0-9.]*|ruby[0-9.]*|perl[0-9.]*|php[0-9.]*|lua[0-9.]*|luajit|Rscript|tclsh[0-9.]*|bash|sh|dash|zsh|ksh|mksh|ash|fish|tcsh|csh|busybox)$/;
/** Options after which the program is given inline (or names a module, not a file): no script to identify. */
const INLINE = new Set(['-e', '-E', '-c', '-p', '-m', '--eval', '--print']);
/** Options that take the next argument as their value (node, python, perl, ruby, shells). */
const WITH_VALUE = new Set([
  ...['--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--input-type'],
  ...['-W', '-X', '-I', '-o', '-O', '--config', '-d', '--env-file', '--rcfile', '--init-file'],
  // node's options whose value may be the next argument: `node --title /app/server.js -e CODE` runs CODE.
  ...['--title', '--inspect-port', '--debug-port', '--redirect-warnings', '--openssl-config', '--icu-data-dir'],
  ...['--diagnostic-dir', '--report-dir', '--report-directory', '--report-filename', '--report-signal'],
  ...['--disable-warning', '--watch-path', '--cpu-prof-dir', '--cpu-prof-name', '--heap-prof-dir'],
  ...['--heap-prof-name', '--heapsnapshot-signal', '--secure-heap', '--secure-heap-min', '--env-file-if-exists'],
  ...['--unhandled-rejections', '--dns-result-order', '--trace-event-categories', '--trace-event-file-pattern'],
  ...['--tls-cipher-list', '--tls-keylog', '--use-largepages', '--experimental-policy', '--policy-integrity'],
  ...['--test-name-pattern', '--test-skip-pattern', '--test-reporter', '--test-reporter-destination'],
  ...['--test-shard', '--localstorage-file', '--allow-fs-read', '--allow-fs-write', '--snapshot-blob'],
  ...['--max-http-header-size', '--stack-trace-limit', '--inspect-publish-uid', '--run', '--experimental-config-file'],
]);
/** Subcommands of deno and bun: `run` runs the script named next, the others take no script file. */
const RUN_WORDS = new Set(['run']);
const INLINE_WORDS = new Set(['eval', 'repl']);

/**
 * Short options read one letter at a time (`node -pe CODE`, `python3 -Ic CODE`, `python3 -cCODE`, `perl -lne CODE`,
 * `bash -euo pipefail`): per family, the letters that make the program inline, and those that take the rest of the
 * cluster (or, last, the next argument) as their value.
 */
interface Letters {
  readonly inline: string;
  readonly value: string;
}
const LETTERS: ReadonlyArray<readonly [RegExp, Letters]> = [
  [/^(node|nodejs|bun)$/, { inline: 'ep', value: 'rC' }],
  [/^(python|pypy)/, { inline: 'cm', value: 'WX' }],
  [/^perl/, { inline: 'eE', value: 'IMmxidD' }],
  [/^ruby/, { inline: 'e', value: 'rICEFxK' }],
  [/^php/, { inline: 'rRBEF', value: 'dczt' }],
  [/^(lua|luajit)/, { inline: 'e', value: 'l' }],
  [/^Rscript$/, { inline: 'e', value: '' }],
  [/(sh|^busybox)$/, { inline: 'c', value: 'oO' }],
];

export type Script =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'inline'; readonly option: string }
  | { readonly kind: 'stdin' };

export interface IdentityFacts {
  readonly exe: string;
  readonly argv: readonly string[];
  readonly cwd?: string | undefined;
}

export function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function isInterpreter(exe: string): boolean {
  return INTERPRETER.test(basenameOf(exe));
}

function file(cwd: string | undefined, arg: string): Script {
  const absolute = posix.isAbsolute(arg) || cwd === undefined || !posix.isAbsolute(cwd);
  return { kind: 'file', path: absolute ? arg : posix.resolve(cwd, arg) };
}

/** A short-option cluster of `name`: the inline letter in it (`-c`), or `value` when its last letter takes one. */
function cluster(name: string, arg: string): `-${string}` | 'value' | undefined {
  if (!/^-[^-]./.test(arg)) return undefined;
  const letters = LETTERS.find(([family]) => family.test(name))?.[1];
  if (!letters) return undefined;
  for (let i = 1; i < arg.length; i++) {
    const letter = arg[i] ?? '';
    if (letters.inline.includes(letter)) return `-${letter}`;
    if (letters.value.includes(letter)) return i === arg.length - 1 ? 'value' : undefined;
  }
  return undefined;
}

/** The option that makes the program inline for the interpreter `name` when `arg` is one, as it is shown. */
function inlineOption(name: string, arg: string, php: boolean, shell: boolean): string | undefined {
  if (INLINE.has(arg) || (php && arg === '-r') || (shell && /^-[a-zA-Z]*c[a-zA-Z]*$/.test(arg))) return arg;
  if (/^--(eval|print)=/.test(arg)) return arg.slice(0, arg.indexOf('='));
  const letter = cluster(name, arg);
  return letter === 'value' ? undefined : letter;
}

/** The script an interpreter runs: its first argument that is not an option, resolved against its cwd. */
export function scriptOf(info: IdentityFacts): Script | undefined {
  const name = basenameOf(info.exe);
  if (!INTERPRETER.test(name)) return undefined;
  const shell = /sh$/.test(name) || name === 'busybox';
  const runner = name === 'deno' || name === 'bun';
  // `-r` is node's --require and ruby's, but php's inline code.
  const php = name.startsWith('php');
  const withValue = php ? WITH_VALUE : new Set([...WITH_VALUE, '-r']);
  let first = true;
  for (let i = 1; i < info.argv.length; i++) {
    const arg = info.argv[i] ?? '';
    if (arg === '--') {
      const next = info.argv[i + 1];
      return next === undefined ? { kind: 'stdin' } : file(info.cwd, next);
    }
    if (runner && first && RUN_WORDS.has(arg)) {
      first = false;
      continue;
    }
    if (runner && first && INLINE_WORDS.has(arg)) return { kind: 'inline', option: arg };
    first = false;
    if (withValue.has(arg)) {
      i++;
      continue;
    }
    if (shell && arg === '-s') return { kind: 'stdin' };
    const inline = inlineOption(name, arg, php, shell);
    if (inline !== undefined) return { kind: 'inline', option: inline };
    if (cluster(name, arg) === 'value') {
      i++;
      continue;
    }
    if (arg === '-') return { kind: 'stdin' };
    if (!arg.startsWith('-') && !(name === 'busybox' && i === 1)) {
      // After a long option this list does not know, the argument may be its value and the program inline code
      // named later (`node --some-option /app/server.js -e CODE`): inline whenever an inline option follows.
      const before = info.argv[i - 1] ?? '';
      const unknown = before.startsWith('--') && !before.includes('=');
      if (unknown && info.argv.slice(i + 1).some((a) => inlineOption(name, a, php, shell) !== undefined)) {
        return { kind: 'inline', option: before };
      }
      return file(info.cwd, arg);
    }
  }
  return { kind: 'stdin' };
}

/** Whether the reader's program is in its arguments, on stdin or at a REPL: it can be approved for one read only. */
export function isInlineCode(info: IdentityFacts): boolean {
  const script = scriptOf(info);
  return script !== undefined && script.kind !== 'file';
}

/** The reader in words: `node /app/server.js`, `python3 (inline code: -c)`, `/usr/bin/cat`. */
export function identityOf(info: IdentityFacts): string {
  const script = scriptOf(info);
  if (!script) return info.exe;
  if (script.kind === 'file') return `${info.exe} ${script.path}`;
  return `${info.exe} (inline code${script.kind === 'inline' ? `: ${script.option}` : ', from standard input'})`;
}
