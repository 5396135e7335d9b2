/**
 * Environments of the embedded store: named sets of variables that a project mounts as a whole (`envmount mcp`'s
 * create_environment / append_variables / create_local_env_file). The manifest (a 0600 JSON file in the state dir)
 * holds names and references only; a variable without a reference is the store value `ENVIRONMENT/NAME`, set or
 * still pending (requested from the user). Owned by the daemon's request handlers; every change is saved at once.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvmountError, errnoCode } from '../../core/errors.js';
import { isReservedName, parseReference, type Reference } from '../../core/reference.js';
import type { TemplateEntry } from '../../core/template.js';
import { ensurePrivateDir, writeFileAtomic } from '../../io/atomic-write.js';

interface Declared {
  /** `op://...` or `envmount://...`; absent: the store value ENVIRONMENT/NAME. */
  readonly reference?: string;
}

interface ManifestFile {
  version: 1;
  environments: Record<string, { createdAt: string; variables: Record<string, Declared> }>;
}

const ENVIRONMENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,199}$/;

export function checkEnvironmentName(name: string): void {
  // Its values are stored as ENVIRONMENT/VARIABLE: `_envmount` would write into envmount's own names.
  if (!ENVIRONMENT_NAME.test(name) || isReservedName(`${name}/`)) {
    throw new EnvmountError(
      'USAGE',
      `"${name}" is not a usable environment name: letters, digits and "_ . -", starting with a letter, digit or "_".`,
    );
  }
}

export function checkVariableName(name: string): void {
  if (!VARIABLE_NAME.test(name)) {
    throw new EnvmountError(
      'USAGE',
      `"${name}" is not a usable variable name: letters, digits and "_", not first a digit.`,
    );
  }
}

/** The store name of a variable of an environment. */
export const storeNameOf = (environment: string, variable: string) => `${environment}/${variable}`;

export class Environments {
  readonly #file: string;
  #manifest: ManifestFile = { version: 1, environments: {} };
  #saving: Promise<void> = Promise.resolve();

  private constructor(file: string) {
    this.#file = file;
  }

  static async load(file: string): Promise<Environments> {
    const environments = new Environments(file);
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as ManifestFile;
      if (parsed.version !== 1 || typeof parsed.environments !== 'object') throw new Error('unknown layout');
      environments.#manifest = parsed;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') {
        throw new EnvmountError('STORE_CORRUPT', `The environments file "${file}" cannot be read: move it away.`, {
          cause: error,
        });
      }
    }
    return environments;
  }

  names(): string[] {
    return Object.keys(this.#manifest.environments).sort();
  }

  has(name: string): boolean {
    return Object.hasOwn(this.#manifest.environments, name);
  }

  /** Variable names of an environment with their references (none: a store value). NOT_FOUND names the fix. */
  variables(name: string): Array<{ name: string; reference: string | undefined }> {
    const environment = this.#get(name);
    return Object.entries(environment.variables)
      .map(([key, declared]) => ({ name: key, reference: declared.reference }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async create(name: string): Promise<void> {
    checkEnvironmentName(name);
    if (this.has(name)) {
      throw new EnvmountError('MOUNT_EXISTS', `The environment "${name}" exists already. See list_variables.`);
    }
    this.#manifest.environments[name] = { createdAt: new Date().toISOString(), variables: {} };
    await this.#save();
  }

  async rename(from: string, to: string): Promise<void> {
    const environment = this.#get(from);
    checkEnvironmentName(to);
    if (this.has(to)) throw new EnvmountError('MOUNT_EXISTS', `The environment "${to}" exists already.`);
    this.#manifest.environments[to] = environment;
    delete this.#manifest.environments[from];
    await this.#save();
  }

  /** Declares variables (a store value, or a reference); a later declaration of a name replaces the earlier. */
  async declare(name: string, variables: ReadonlyArray<{ name: string; reference?: string }>): Promise<void> {
    const environment = this.#get(name);
    for (const variable of variables) {
      checkVariableName(variable.name);
      environment.variables[variable.name] = variable.reference ? { reference: variable.reference } : {};
    }
    await this.#save();
  }

  /** The template of an environment, as a mount renders it. */
  entries(name: string): TemplateEntry[] | { problem: string } {
    if (!this.has(name)) return { problem: `the environment "${name}" no longer exists` };
    return this.variables(name).map((variable) => {
      const ref: Reference = parseReference(variable.reference ?? `envmount://${storeNameOf(name, variable.name)}`);
      return { key: variable.name, line: 0, parts: [{ kind: 'ref', ref }] };
    });
  }

  #get(name: string) {
    const environment = this.#manifest.environments[name];
    if (!environment || !this.has(name)) {
      throw new EnvmountError(
        'NOT_FOUND',
        `No environment "${name}". See list_environments, or create it with create_environment.`,
      );
    }
    return environment;
  }

  #save(): Promise<void> {
    const run = this.#saving.then(async () => {
      await ensurePrivateDir(dirname(this.#file));
      await writeFileAtomic(this.#file, `${JSON.stringify(this.#manifest, null, 2)}\n`);
    });
    this.#saving = run.catch(() => undefined);
    return run;
  }
}
