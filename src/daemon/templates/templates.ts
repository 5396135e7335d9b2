/** Finding and reading a project's template (`.env.op`, else `.env.tpl`). */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvmountError, errnoCode } from '../../core/errors.js';
import { parseTemplate, type TemplateEntry } from '../../core/template.js';
import { readClientFile } from '../../io/client-file.js';

export const TEMPLATE_NAMES = ['.env.op', '.env.tpl'] as const;

export type LoadedTemplate = { readonly entries: TemplateEntry[] } | { readonly error: string };

/**
 * FORBIDDEN for a permission error (EACCES, EPERM) on `path`, naming the path, the errno and the fix; any other
 * error is returned as it is.
 */
export function permissionError(error: unknown, what: string, path: string): unknown {
  const code = errnoCode(error);
  if (code !== 'EACCES' && code !== 'EPERM') return error;
  return new EnvmountError(
    'FORBIDDEN',
    `envmountd cannot ${what} "${path}" (${code}: permission denied to the user it runs as). Give that user access (as the owner: \`chmod u+rx\` on it), or run envmountd as the project's owner.`,
    { cause: error },
  );
}

/** That the daemon can list and search `dir`, where it looks for the template. */
export async function checkDirectoryAccess(dir: string): Promise<void> {
  try {
    await access(dir, constants.R_OK | constants.X_OK);
  } catch (error) {
    throw permissionError(error, 'read the directory', dir);
  }
}

/** The template file of a project directory; TEMPLATE_MISSING names what to create. */
export async function findTemplate(dir: string): Promise<string> {
  for (const name of TEMPLATE_NAMES) {
    const path = join(dir, name);
    try {
      await access(path);
      return path;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw permissionError(error, 'look for a template in', dir);
    }
  }
  throw new EnvmountError(
    'TEMPLATE_MISSING',
    `No template in "${dir}": create ${join(dir, '.env.op')} with lines like API_KEY=envmount://API_KEY, or run \`envmount import ${dir}\` to move an existing .env in.`,
  );
}

/**
 * Parses a template; throws TEMPLATE_PARSE (file:line) or TEMPLATE_MISSING, whose cause's `code` is the errno (or
 * ENOTREG, EFBIG). Read without blocking: a FIFO or device at the path is refused, not opened.
 */
export async function readTemplate(path: string): Promise<TemplateEntry[]> {
  const read = await readClientFile(path, { follow: true });
  if (!read.ok) {
    const cause = Object.assign(new Error(read.problem, { cause: read.cause }), { code: read.code });
    throw new EnvmountError('TEMPLATE_MISSING', `Cannot read the template "${path}": ${read.problem}.`, { cause });
  }
  try {
    return parseTemplate(read.data.toString('utf8'), path);
  } finally {
    read.data.fill(0);
  }
}

/** Like readTemplate, but a problem becomes a state to report and serve as a comment instead of a throw. */
export async function loadTemplate(path: string): Promise<LoadedTemplate> {
  try {
    return { entries: await readTemplate(path) };
  } catch (error) {
    if (error instanceof EnvmountError) return { error: error.message };
    throw error;
  }
}
