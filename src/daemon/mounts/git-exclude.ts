/**
 * Keeping a FUSE mount out of git. A regular file is read by `git add -A` (a FIFO is skipped), so `add --backend
 * fuse` names the mount path in the repository's `info/exclude`: local to this clone, no tracked file changes, and
 * read by every git command. Bulk readers are refused anyway (core/bulk-readers.ts): a git that opened it would get
 * `#` lines; excluded, git never opens it. The repository is found by walking up to a `.git` (a directory, or a
 * worktree's `.git` file naming its git dir, whose `commondir` holds `info/`).
 */
import { appendFile, lstat, mkdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { errnoCode } from '../../core/errors.js';

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** The work tree root and the git dir holding `info/exclude` of the repository `dir` is in, if any. */
async function repositoryOf(dir: string): Promise<{ root: string; common: string } | undefined> {
  for (let at = dir; ; at = dirname(at)) {
    const dotGit = join(at, '.git');
    const info = await lstat(dotGit).catch(() => undefined);
    if (info?.isDirectory()) return { root: at, common: dotGit };
    if (info?.isFile()) {
      const pointer = /^gitdir: (.+)$/m.exec((await readText(dotGit)) ?? '')?.[1]?.trim();
      if (!pointer) return undefined;
      const gitDir = isAbsolute(pointer) ? pointer : resolve(at, pointer);
      const common = (await readText(join(gitDir, 'commondir')))?.trim();
      return { root: at, common: common ? resolve(gitDir, common) : gitDir };
    }
    if (dirname(at) === at) return undefined;
  }
}

/**
 * Makes sure git ignores `path` when `dir` is in a repository: a line `/REL` in its info/exclude. Returns what was
 * done, in words (for `add`'s output), or undefined outside a repository.
 */
export async function excludeFromGit(dir: string, path: string): Promise<string | undefined> {
  const repo = await repositoryOf(dir);
  if (!repo) return undefined;
  const rel = relative(repo.root, path);
  if (rel.startsWith('..')) return undefined;
  // Wildcards and specials in a name are escaped: the line names this one path.
  const line = `/${rel.replace(/[\\*?[\]!#]/g, '\\$&')}`;
  const exclude = join(repo.common, 'info', 'exclude');
  const text = (await readText(exclude)) ?? '';
  if (text.split('\n').some((l) => l.trim() === line || l.trim() === rel))
    return `git ignores ${path} (${line} is in ${exclude}).`;
  await mkdir(dirname(exclude), { recursive: true });
  const lead = text === '' || text.endsWith('\n') ? '' : '\n';
  await appendFile(exclude, `${lead}# envmount: a FUSE mount is a regular file; git must never read it\n${line}\n`);
  return `added ${line} to ${exclude}, so git never reads ${path} (local to this clone; no tracked file changed).`;
}
