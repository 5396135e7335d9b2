/** `add --backend fuse` keeps the mount out of git: info/exclude of the repository (a worktree's included). */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { excludeFromGit } from '../../../src/daemon/mounts/git-exclude.js';
import { run } from '../../helpers/daemon.js';

const root = mkdtempSync('/tmp/emt-gitx-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const git = (cwd: string, ...args: string[]) =>
  run('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd });

describe('excludeFromGit', () => {
  it('outside a repository: nothing done', async () => {
    const dir = join(root, 'plain');
    mkdirSync(dir);
    expect(await excludeFromGit(dir, join(dir, '.env'))).toBeUndefined();
  });

  it('a project in a subdirectory of a repository: /sub/.env added once, and git check-ignore agrees', async () => {
    const repo = join(root, 'repo');
    mkdirSync(join(repo, 'app'), { recursive: true });
    await git(repo, 'init', '-q');
    const said = await excludeFromGit(join(repo, 'app'), join(repo, 'app', '.env'));
    expect(said).toContain('added /app/.env');
    expect(await excludeFromGit(join(repo, 'app'), join(repo, 'app', '.env'))).toContain('git ignores');
    const exclude = readFileSync(join(repo, '.git', 'info', 'exclude'), 'utf8');
    expect(exclude.match(/^\/app\/\.env$/gm)).toHaveLength(1);
    writeFileSync(join(repo, 'app', '.env'), 'X=1\n');
    expect((await git(repo, 'check-ignore', '-q', 'app/.env')).code).toBe(0);
  });

  it('a linked worktree: the common git dir gets the line', async () => {
    const repo = join(root, 'main');
    mkdirSync(repo);
    await git(repo, 'init', '-q');
    writeFileSync(join(repo, 'f'), 'f\n');
    await git(repo, 'add', 'f');
    await git(repo, 'commit', '-qm', 'f');
    const tree = join(root, 'tree');
    expect((await git(repo, 'worktree', 'add', '-q', tree)).code).toBe(0);
    expect(await excludeFromGit(tree, join(tree, '.env'))).toContain('added /.env');
    writeFileSync(join(tree, '.env'), 'X=1\n');
    expect((await git(tree, 'check-ignore', '-q', '.env')).code).toBe(0);
  });

  it('a name with glob characters is escaped: the line matches that path only', async () => {
    const repo = join(root, 'globs');
    mkdirSync(repo);
    await git(repo, 'init', '-q');
    await excludeFromGit(repo, join(repo, '.env[1]*'));
    writeFileSync(join(repo, '.env[1]*'), 'X=1\n');
    writeFileSync(join(repo, '.envX'), 'X=1\n');
    expect((await git(repo, 'check-ignore', '-q', '.env[1]*')).code).toBe(0);
    expect((await git(repo, 'check-ignore', '-q', '.envX')).code).toBe(1);
  });
});
