/** What a new mount renders: its project's template file, a 1Password Environment, or a store environment. */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EnvmountError } from '../../core/errors.js';
import type { BackendKind } from '../../core/mount-backends.js';
import type { PolicyOptions } from '../../core/policy-edit.js';
import type { Format } from '../../core/render-formats.js';
import type { TemplateEntry } from '../../core/template.js';
import { checkDirectoryAccess, findTemplate, permissionError, readTemplate } from '../templates/templates.js';
import type { StoreEnvironments } from './mount-deps.js';

/** Whether a mount renders a template file (not an Environment, whose variables come at render time). */
export const hasTemplateFile = (record: { environment?: string; storeEnvironment?: string }) =>
  !record.environment && !record.storeEnvironment;

export const storeEnvironmentLabel = (name: string) => `envmount environment ${name}`;

/** `envmount add`'s options (the protocol's parameters). */
export type AddOptions = PolicyOptions & {
  readonly dir: string;
  readonly path?: string | undefined;
  readonly environment?: string | undefined;
  readonly storeEnvironment?: string | undefined;
  readonly format?: Format | undefined;
  /** Serve even though other users can write the mount's directory. */
  readonly allowSharedDir?: boolean | undefined;
  /** How the path is served (absent: an existing mount keeps its own, a new one is `fifo`). */
  readonly backend?: BackendKind | undefined;
  /** The user's default, for a new mount only. */
  readonly defaultBackend?: BackendKind | undefined;
};

/** The directory, mount path and template of a mount to add; DIRECTORY_MISSING, TEMPLATE_* or NOT_FOUND. */
export async function mountSource(
  options: AddOptions,
  storeEnvironments: StoreEnvironments,
): Promise<{ dir: string; path: string; templatePath: string; entries: TemplateEntry[] }> {
  const dir = resolve(options.dir);
  const path = resolve(options.path ?? join(dir, '.env'));
  const info = await stat(dir).catch((error: unknown) => {
    const denied = permissionError(error, 'reach the directory', dir);
    if (denied !== error) throw denied;
    return undefined;
  });
  if (!info?.isDirectory()) {
    throw new EnvmountError('DIRECTORY_MISSING', `Cannot mount "${path}": "${dir}" is not a directory.`);
  }
  await checkDirectoryAccess(dir);
  return { dir, path, ...(await templateFor(dir, options.environment, options.storeEnvironment, storeEnvironments)) };
}

async function templateFor(
  dir: string,
  onePassword: string | undefined,
  stored: string | undefined,
  storeEnvironments: StoreEnvironments,
): Promise<{ templatePath: string; entries: TemplateEntry[] }> {
  if (onePassword && stored) {
    throw new EnvmountError('USAGE', 'Give a 1Password Environment or an envmount environment, not both.');
  }
  if (onePassword) return { templatePath: `1Password Environment ${onePassword}`, entries: [] };
  if (stored) {
    const entries = storeEnvironments(stored);
    if (!Array.isArray(entries)) {
      throw new EnvmountError(
        'NOT_FOUND',
        `No environment "${stored}". See list_environments, or create it with create_environment.`,
      );
    }
    return { templatePath: storeEnvironmentLabel(stored), entries };
  }
  const templatePath = await findTemplate(dir);
  return { templatePath, entries: await readTemplate(templatePath) };
}
