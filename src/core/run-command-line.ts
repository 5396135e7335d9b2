/**
 * Where the command starts in `envmount run`'s own command line, and whether code was loaded into envmount's node
 * before its script (node options or NODE_OPTIONS that load a module). The daemon checks the command a client
 * says it will run against this (src/daemon/run/run-command-check.ts). Pure.
 */

/** `envmount run` options that take a value (src/cli/main.ts). */
const RUN_OPTIONS_WITH_VALUE = new Set(['--env-file', '--environment', '--dir', '--allow-dangerous']);

/**
 * The command in the arguments after envmount's script (`[--json] run [options] [--] CMD ARGS...`), or undefined
 * when they are not a `run`.
 */
export function runCommandOf(args: readonly string[]): string[] | undefined {
  let i = 0;
  while (i < args.length && (args[i] ?? '').startsWith('-')) i++;
  if (args[i] !== 'run') return undefined;
  for (i++; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') return args.slice(i + 1);
    if (!arg.startsWith('-')) return args.slice(i);
    if (RUN_OPTIONS_WITH_VALUE.has(arg)) i++;
  }
  return undefined;
}

/**
 * Node options that run other code before (or besides) the script: by name, or without naming it (`--env-file`
 * applies a NODE_OPTIONS line of its file, which /proc/PID/environ never shows; a startup snapshot's main function
 * runs instead of the script; an OpenSSL config loads engines, which are shared objects).
 */
const LOADS_CODE =
  /^(-r|--require|--import|--loader|--experimental-loader|-e|--eval|-p|--print|--inspect.*|--debug.*|--env-file.*|--snapshot-blob|--openssl-config|--openssl-shared-config|--experimental-policy)(=|$)/;

/** The code-loading node options in node's own arguments (before its script) and in NODE_OPTIONS. */
export function preloadsOf(nodeArgs: readonly string[], nodeOptions: string | undefined): string[] {
  const words = [...nodeArgs, ...(nodeOptions ?? '').split(/\s+/).filter((w) => w !== '')];
  return words.filter((w) => LOADS_CODE.test(w));
}
