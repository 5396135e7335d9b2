/**
 * Bulk readers: programs that read every file of a tree to copy, archive, index or search it (git, tar, rsync, zip,
 * cp, docker build contexts, backup tools, recursive grep). A FIFO mount is skipped by all of them; a mount served as
 * a regular file (the FUSE backend) is not, so under every policy, `any` included, such a reader is refused unless
 * an `exe:` or `argv:` allow rule of the mount names it. Pure: the facts come from the reader gate.
 */
import type { MountLocation } from './argv-location.js';
import { type Policy, type ProcessFacts, ruleMatches } from './policy.js';
import { isInterpreter, scriptOf } from './reader-identity.js';

/** Executables (basenames) that copy, archive, sync, back up or index whole trees. */
const BULK_EXES = new Set([
  'git',
  'git-upload-pack',
  'tar',
  'bsdtar',
  'gtar',
  'rsync',
  'zip',
  '7z',
  '7za',
  '7zz',
  'cpio',
  'pax',
  'cp',
  'scp',
  'sftp-server',
  'docker',
  'dockerd',
  'buildkitd',
  'buildctl',
  'podman',
  'buildah',
  'kaniko',
  'rclone',
  'restic',
  'borg',
  'duplicity',
  'kopia',
  'rdiff-backup',
  'duplicati',
  'deja-dup',
  'syncthing',
  'dropbox',
  'unison',
  'rg',
  'ag',
  'ack',
  'ctags',
  'universal-ctags',
  'cscope',
  'tracker-extract',
  'tracker-miner-fs',
  'tracker-miner-fs-3',
  'baloo_file',
  'baloo_file_extractor',
]);

/**
 * Scripts (basenames) an interpreter runs that pack, publish, install from or upload a whole tree: `npm pack` and
 * `npm publish` are node running npm-cli.js, and put every file npm does not ignore in the package.
 */
const BULK_SCRIPTS = new Set([
  ...['npm', 'npm-cli.js', 'pnpm', 'pnpm.cjs', 'pnpm.js', 'yarn', 'yarn.js', 'yarn.cjs', 'yarnpkg', 'pip', 'pip3'],
  ...['vercel', 'netlify', 'wrangler', 'firebase', 'vsce', 'aws', 'gsutil', 'rsync', 'tar', 'zip'],
]);
const BULK_SCRIPT = /^(yarn-.*\.c?js|pip[0-9.]+)$/;

/** Python modules that archive or install a whole tree when run with `-m` (`python3 -m tarfile -c out.tar .`). */
const BULK_MODULES = new Set(['tarfile', 'zipfile', 'pip']);

/** Searchers that are bulk readers only when asked to recurse. */
const RECURSIVE_SEARCHERS = new Set(['grep', 'egrep', 'fgrep']);

/**
 * Every name bulkReaderName() can find, as fnmatch(3) patterns (BULK_SCRIPT widened to globs that match more, never
 * less): a FUSE mount under policy `any` serves an opener at once unless its executable or an argument is named
 * by one (native/fuse-handup.c); those wait for bulkReaderName() and the policy.
 */
export const BULK_NAME_PATTERNS: readonly string[] = [
  ...BULK_EXES,
  ...RECURSIVE_SEARCHERS,
  ...BULK_SCRIPTS,
  ...BULK_MODULES,
  'yarn-*.js',
  'yarn-*.cjs',
  'pip[0-9.]*',
];

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Whether `arg` is a long option `--NAME` spelled in full or as the unambiguous prefix grep takes. */
function longOption(arg: string, name: string, shortest: number): boolean {
  const spelled = arg.slice(2, arg.includes('=') ? arg.indexOf('=') : undefined);
  return arg.startsWith('--') && spelled.length >= shortest && name.startsWith(spelled);
}

/**
 * Whether grep is asked to recurse: a short-option cluster holding r or R (`-rn`), `--recursive` or
 * `--dereference-recursive` (or a prefix grep takes), or `-d recurse` / `--directories=recurse` in any spelling.
 */
function recurses(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const options = argv.slice(1, end === -1 ? undefined : end);
  return options.some((arg, i) => {
    if (longOption(arg, 'recursive', 3) || longOption(arg, 'dereference-recursive', 3)) return true;
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : options[i + 1];
    if (longOption(arg, 'directories', 2)) return value === 'recurse';
    if (!/^-[A-Za-z]+$/.test(arg)) return false;
    if (/[rR]/.test(arg)) return true;
    return arg.endsWith('d') && options[i + 1] === 'recurse';
  });
}

/** The name of the bulk reader this process is (its executable's basename, or argv[0]'s), or undefined. */
export function bulkReaderName(facts: ProcessFacts): string | undefined {
  const names = [basename(facts.exe), basename(facts.argv[0] ?? '')];
  for (const name of names) {
    if (BULK_EXES.has(name)) return name;
    if (RECURSIVE_SEARCHERS.has(name) && recurses(facts.argv)) return `${name} -r`;
  }
  if (!isInterpreter(facts.exe)) return undefined;
  const exe = basename(facts.exe);
  // busybox called by its own name runs the applet its first argument names (`busybox tar cf - .`).
  const applet = exe === 'busybox' && names[1] === 'busybox' ? (facts.argv[1] ?? '') : '';
  if (BULK_EXES.has(applet)) return `busybox ${applet}`;
  if (RECURSIVE_SEARCHERS.has(applet) && recurses(facts.argv.slice(1))) return `busybox ${applet} -r`;
  // A module python runs (`-m tarfile`): the argument after the `-m` that scriptOf() stops at.
  const script = scriptOf(facts);
  if (/^python[0-9.]*$/.test(exe) && script?.kind === 'inline' && script.option === '-m') {
    const name = facts.argv[facts.argv.indexOf('-m') + 1] ?? '';
    if (BULK_MODULES.has(name)) return `${exe} -m ${name}`;
  }
  // npm sets its process title (`npm pack ...`), which replaces its command line: the title's first word counts too.
  const titled = basename((facts.argv[0] ?? '').split(' ')[0] ?? '');
  for (const file of [script?.kind === 'file' ? basename(script.path) : '', titled]) {
    if (BULK_SCRIPTS.has(file) || BULK_SCRIPT.test(file)) return `${exe} ${file}`;
  }
  return undefined;
}

/** Whether an `exe:` or `argv:` allow rule of the policy matches the reader: then it is named, and not refused. */
export function namedByRule(policy: Policy, facts: ProcessFacts, location?: MountLocation): boolean {
  const withAncestors = { ...facts, ancestors: [] };
  return policy.rules.some(
    (rule) => rule.effect === 'allow' && rule.kind !== 'ancestor' && ruleMatches(rule, withAncestors, location),
  );
}
