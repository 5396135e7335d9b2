/**
 * What an `argv:` (or `ancestor:`) rule sees of a command line: the arguments with the mount's own location taken
 * out, so that a rule written for a program (`argv:*vite*`) is not matched by a reader that merely names the
 * mount (`cat ~/my-vite-app/.env`). Before matching, in each argument:
 * - an argument that resolves (against the process's working directory) to the mount, its template or its
 *   directory becomes `{mount}` (the directory: `{mount-dir}`);
 * - every other spelling of them inside an argument (the absolute path, or the path relative to the working
 *   directory when that does not climb out of it), bounded by non-name characters, becomes `{mount}` or
 *   `{mount-dir}`: `node /home/me/my-vite-app/node_modules/.bin/vite` still matches `*vite*`, through `vite`.
 * Pure: the paths come in as strings.
 */
import { posix } from 'node:path';

/** Where a mount is, as absolute paths: its directory, and its own files (the FIFO, the template). */
export interface MountLocation {
  readonly dir: string;
  readonly files: readonly string[];
}

export const MOUNT_TOKEN = '{mount}';
export const MOUNT_DIR_TOKEN = '{mount-dir}';

const NAME_CHAR = /[A-Za-z0-9_.-]/;

function isBoundary(char: string | undefined): boolean {
  return char === undefined || !NAME_CHAR.test(char);
}

/** Replaces each occurrence of `spelled` that stands on its own (not part of a longer name) with `token`. */
function replaceSpelled(arg: string, spelled: string, token: string): string {
  let out = '';
  let from = 0;
  for (let at = arg.indexOf(spelled); at !== -1; at = arg.indexOf(spelled, from)) {
    const end = at + spelled.length;
    const bounded = isBoundary(at === 0 ? undefined : arg[at - 1]) && isBoundary(arg[end]);
    out += arg.slice(from, at) + (bounded ? token : spelled);
    from = end;
  }
  return out + arg.slice(from);
}

/**
 * How `to` is written relative to `from` (both absolute, normalized), or undefined when that is only `..`
 * segments (the working directory is inside it). Plain string work: this runs on every decided read.
 */
function relativeSpelling(from: string, to: string): string | undefined {
  if (from === '/') return to.slice(1) || undefined;
  if (to.startsWith(`${from}/`)) return to.slice(from.length + 1);
  if (from === to || from.startsWith(`${to}/`)) return undefined;
  const a = from.split('/');
  const b = to.split('/');
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return `${'../'.repeat(a.length - common)}${b.slice(common).join('/')}`;
}

const baseOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** Whether an argument can resolve to `target` at all: it ends with the target's name, or is made of dots. */
function mayName(arg: string, target: string): boolean {
  const base = baseOf(target);
  return arg === base || arg.endsWith(`/${base}`) || arg.endsWith(`/${base}/`) || /(^|\/)\.\.?\/?$/.test(arg);
}

/** The spellings of the location to take out, longest first. */
function spellings(cwd: string | undefined, location: MountLocation): Array<{ spelled: string; token: string }> {
  const targets = [
    ...location.files.filter((f) => f.startsWith('/')).map((path) => ({ path, token: MOUNT_TOKEN })),
    { path: location.dir, token: MOUNT_DIR_TOKEN },
  ];
  const list: Array<{ spelled: string; token: string }> = [];
  for (const { path, token } of targets) {
    if (path.length > 1) list.push({ spelled: path, token });
    if (cwd === undefined) continue;
    const rel = relativeSpelling(cwd, path);
    if (rel) list.push({ spelled: rel, token });
  }
  return list.sort((a, b) => b.spelled.length - a.spelled.length);
}

/** The arguments as an `argv:` rule matches them: the mount's location replaced (see the file comment). */
export function withoutLocation(argv: readonly string[], cwd: string | undefined, location: MountLocation): string[] {
  const base = cwd?.startsWith('/') ? posix.normalize(cwd) : undefined;
  const files = location.files.filter((f) => f.startsWith('/'));
  const spelled = spellings(base, location);
  return argv.map((arg) => {
    const candidate = [...files, location.dir].some((target) => mayName(arg, target));
    if (candidate && arg !== '' && (base !== undefined || arg.startsWith('/'))) {
      const resolved = posix.resolve(base ?? '/', arg);
      if (files.includes(resolved)) return MOUNT_TOKEN;
      if (resolved === location.dir) return MOUNT_DIR_TOKEN;
    }
    return spelled.reduce((text, { spelled: s, token }) => replaceSpelled(text, s, token), arg);
  });
}
