/**
 * Bulk readers: programs that read every file of a tree to copy, archive, index or search it (git, tar, rsync, zip,
 * cp, docker build contexts, backup tools, recursive grep). A FIFO mount is skipped by all of them; a mount served as
 * a regular file (the FUSE backend) is not, so under every policy, `any` included, such a reader is refused unless
 * an `exe:` or `argv:` allow rule of the mount names it. Pure: the facts come from the reader gate.
 */
import type { MountLocation } from './argv-location.js';
import { type Policy, type ProcessFacts, ruleMatches } from './policy.js';

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

/** Searchers that are bulk readers only when asked to recurse. */
const RECURSIVE_SEARCHERS = new Set(['grep', 'egrep', 'fgrep']);

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Whether any short-option cluster (`-rn`) holds one of `letters`, or a long option is `--recursive`. */
function recurses(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const options = argv.slice(1, end === -1 ? undefined : end);
  return options.some(
    (arg) =>
      arg === '--recursive' || arg === '--dereference-recursive' || (/^-[A-Za-z]+$/.test(arg) && /[rR]/.test(arg)),
  );
}

/** The name of the bulk reader this process is (its executable's basename, or argv[0]'s), or undefined. */
export function bulkReaderName(facts: ProcessFacts): string | undefined {
  const names = [basename(facts.exe), basename(facts.argv[0] ?? '')];
  for (const name of names) {
    if (BULK_EXES.has(name)) return name;
    if (RECURSIVE_SEARCHERS.has(name) && recurses(facts.argv)) return `${name} -r`;
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
