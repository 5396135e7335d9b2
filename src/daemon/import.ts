/**
 * `envmount import DIR`: moves a plaintext `.env` into the embedded store and puts a mount in its place. Order of
 * steps, so that nothing is lost: store every value (one atomic write) -> write `.env.op` referencing them ->
 * rename a fresh FIFO over `.env` (the plaintext file leaves in the same atomic step) -> start the mount -> overwrite
 * the old file's bytes through a descriptor kept open. A failure before the rename leaves `.env` as it was and
 * undoes the store and template changes. With `--merge`, a template that is already there (`.env.op`, else
 * `.env.tpl`) gets the new references appended instead; a name defined in both files stops it before anything
 * changes.
 */
import { lstat, rename, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseDotenv } from '../core/dotenv-parse.js';
import { EnvmountError } from '../core/errors.js';
import type { PolicyOptions } from '../core/policy-edit.js';
import { isReservedName, storeNameProblem } from '../core/reference.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { CLIENT_FILE_MAX_BYTES, openClientFile, readClientFile, readOpened } from '../io/client-file.js';
import { mkfifo } from '../native/index.js';
import type { EmbeddedStore } from '../secrets/store.js';
import type { MountService } from './mounts/mounts.js';
import { exists } from './mounts/placement.js';
import { readTemplate, TEMPLATE_NAMES } from './templates/templates.js';

export interface ImportResult {
  path: string;
  template: string;
  names: string[];
  /** The references were added to a template that was already there (`--merge`). */
  merged: boolean;
}

function hardLinked(path: string, dir: string, links: number): EnvmountError {
  const others = links - 1;
  return new EnvmountError(
    'FORBIDDEN',
    `Cannot import "${path}": it has ${others} other hard link${others === 1 ? '' : 's'} (link count ${links}), and import overwrites its bytes, which would wipe ${others === 1 ? 'that file' : 'those files'} too. Nothing was changed. Find ${others === 1 ? 'it' : 'them'} with \`find / -samefile ${path}\`, then \`rm\` the other link or give .env bytes of its own (\`cp ${path} ${path}.copy && mv ${path}.copy ${path}\`), and run \`envmount import ${dir}\` again.`,
  );
}

export async function importDotenv(
  dirInput: string,
  options: { readonly prefix?: string | undefined; readonly merge?: boolean | undefined },
  policy: PolicyOptions,
  deps: { store: EmbeddedStore; mounts: MountService },
): Promise<ImportResult> {
  const dir = resolve(dirInput);
  const path = join(dir, '.env');
  const prefixInput = options.prefix;
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile()) {
    throw new EnvmountError('NOT_FOUND', `Nothing to import: "${path}" is not a regular file.`);
  }
  // Its bytes are overwritten at the end: another hard link to them would be wiped too.
  if (info.nlink > 1) throw hardLinked(path, dir, info.nlink);
  let existing: { path: string; text: string; keys: Set<string>; mode: number } | undefined;
  for (const name of TEMPLATE_NAMES) {
    const candidate = join(dir, name);
    if (!(await exists(candidate))) continue;
    if (!options.merge) {
      throw new EnvmountError(
        'MOUNT_EXISTS',
        `Cannot import "${path}": ${candidate} already exists. Run \`envmount import ${dir} --merge\` to move the values of .env into the store and add their references to ${name} (a name in both files stops it, and nothing changes), or move .env away and run \`envmount add ${dir}\` to serve ${name} alone.`,
      );
    }
    // A template holds references, not values: its text may live in a string. Read as every client-named file is.
    const keys = new Set((await readTemplate(candidate)).map((e) => e.key));
    const read = await readClientFile(candidate, { follow: true });
    if (!read.ok)
      throw new EnvmountError('TEMPLATE_MISSING', `Cannot read the template "${candidate}": ${read.problem}.`);
    existing = { path: candidate, text: read.data.toString('utf8'), keys, mode: (await lstat(candidate)).mode };
    break;
  }
  const prefix = prefixInput ?? basename(dir).replace(/[^A-Za-z0-9_.-]/g, '_');
  // Kept open until the end: after the rename it is the only way to the old bytes, which are overwritten. Opened
  // without blocking or following a link, and checked through the descriptor: the file lstat saw, a regular file.
  const opened = await openClientFile(path, { follow: false, write: true });
  if (!opened.ok || opened.ino !== info.ino) {
    if (opened.ok) await opened.handle.close();
    const problem = opened.ok ? 'it was replaced while being opened' : opened.problem;
    throw new EnvmountError(
      'NOT_FOUND',
      `Cannot import "${path}": ${problem}. Check it, then run \`envmount import ${dir}\` again.`,
    );
  }
  const original = opened.handle;
  const template = existing?.path ?? join(dir, '.env.op');
  let stored: string[] = [];
  let templateWritten = false;
  let renamed = false;
  try {
    const raw = await readOpened(original, CLIENT_FILE_MAX_BYTES, opened.size);
    if (!raw)
      throw new EnvmountError('NOT_FOUND', `Cannot import "${path}": it grew past ${CLIENT_FILE_MAX_BYTES} bytes.`);
    const entries = parseDotenv(raw);
    raw.fill(0);
    if (entries.length === 0)
      throw new EnvmountError('NOT_FOUND', `Nothing to import: "${path}" has no KEY=value lines.`);
    const named = entries.map(({ key, value }) => ({ key, name: `${prefix}/${key}`, value }));
    try {
      const both = named.filter(({ key }) => existing?.keys.has(key)).map(({ key }) => key);
      if (existing && both.length > 0) {
        throw new EnvmountError(
          'MOUNT_EXISTS',
          `Cannot merge "${path}" into ${existing.path}: ${both.join(', ')} ${both.length === 1 ? 'is' : 'are'} in both. Delete each from one of the two files (from .env to keep the template's line, from the template to import the value), then run \`envmount import ${dir} --merge\` again. Nothing was changed.`,
        );
      }
      for (const { name } of named) {
        const problem =
          storeNameProblem(name) ?? (isReservedName(name) ? `"${name}" is one of envmount's own names` : undefined);
        if (problem) throw new EnvmountError('USAGE', `Cannot import: ${problem}. Pass --prefix NAME.`);
        if (deps.store.has(name)) {
          throw new EnvmountError(
            'MOUNT_EXISTS',
            `Cannot import "${path}": envmount://${name} already exists. Pass --prefix to store these under other names.`,
          );
        }
      }
      await deps.store.setMany(named);
      stored = named.map((n) => n.name);
    } finally {
      for (const { value } of named) value.fill(0);
    }
    const lines = named.map(({ key, name }) => `${key}=envmount://${name}`);
    const when = new Date().toISOString();
    if (existing) {
      const before = existing.text === '' || existing.text.endsWith('\n') ? existing.text : `${existing.text}\n`;
      const header = `# Merged from .env by envmount on ${when}. Values live in the envmount store.\n`;
      await writeFileAtomic(template, `${before}${header}${lines.join('\n')}\n`, existing.mode & 0o777);
    } else {
      const header = `# Imported from .env by envmount on ${when}. Values live in the envmount store.\n`;
      await writeFileAtomic(template, `${header}${lines.join('\n')}\n`, 0o644);
    }
    templateWritten = true;
    const swap = join(dir, '.env.envmount-import');
    await unlink(swap).catch(() => undefined);
    mkfifo(swap, 0o600);
    const now = await lstat(path);
    if (now.nlink > 1) {
      await unlink(swap).catch(() => undefined);
      throw hardLinked(path, dir, now.nlink);
    }
    if (now.ino !== info.ino || now.size !== info.size || now.mtimeMs !== info.mtimeMs) {
      await unlink(swap).catch(() => undefined);
      throw new EnvmountError(
        'USAGE',
        `"${path}" changed while it was being imported; run \`envmount import ${dir}\` again.`,
      );
    }
    await rename(swap, path);
    renamed = true;
    await deps.mounts.add({ dir, ...policy });
    const zeros = Buffer.alloc(Math.min(info.size, 16 * 1024 * 1024));
    await original.write(zeros, 0, zeros.length, 0);
    await original.sync();
    return { path, template, names: stored, merged: existing !== undefined };
  } catch (error) {
    if (!renamed) {
      if (templateWritten && existing) await writeFileAtomic(template, existing.text, existing.mode & 0o777);
      else if (templateWritten) await unlink(template).catch(() => undefined);
      for (const name of stored) await deps.store.unset(name).catch(() => undefined);
    }
    throw error;
  } finally {
    await original.close();
  }
}
