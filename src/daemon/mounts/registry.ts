/**
 * The registry of mounts: paths, template locations and settings, never values. Written atomically by the daemon
 * alone; read at start to put every mount back.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvmountError, errnoCode } from '../../core/errors.js';
import type { BackendKind } from '../../core/mount-backends.js';
import type { Policy } from '../../core/policy.js';
import type { Format } from '../../core/render-formats.js';
import { ensurePrivateDir, removeStaleTemps, writeFileAtomic } from '../../io/atomic-write.js';

export interface MountRecord {
  /** Absolute path of the FIFO (normally `<dir>/.env`). */
  readonly path: string;
  /** Absolute project directory. */
  readonly dir: string;
  /** Absolute path of the template the mount renders (for an Environment mount: `1Password Environment ID`). */
  readonly template: string;
  /** A 1Password Environment whose variables the mount serves, instead of a template. */
  readonly environment?: string;
  /** An environment of the embedded store (environments.ts) the mount serves, instead of a template. */
  readonly storeEnvironment?: string;
  readonly addedAt: string;
  /** Who may read (rules are data, shown by `envmount status`). */
  readonly policy: Policy;
  /** What readers get: dotenv (absent: dotenv), json, shell or yaml. */
  readonly format?: Format;
  /** Serve even though other users can write the mount's directory (`add --allow-shared-dir`). */
  readonly allowSharedDir?: true;
  /** How the path is served (absent: `fifo`, a named pipe; `fuse`: a regular file served through FUSE). */
  readonly backend?: BackendKind;
}

interface RegistryFile {
  version: 1;
  mounts: MountRecord[];
}

export class Registry {
  readonly #file: string;
  // Owned by the daemon's request handlers; changed only through add/remove, each followed by a save.
  readonly #mounts = new Map<string, MountRecord>();
  #saving: Promise<void> = Promise.resolve();

  private constructor(file: string) {
    this.#file = file;
  }

  static async load(file: string): Promise<Registry> {
    const registry = new Registry(file);
    await removeStaleTemps(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return registry;
      throw error;
    }
    let parsed: RegistryFile;
    try {
      parsed = JSON.parse(text) as RegistryFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.mounts)) throw new Error('unknown layout');
    } catch (error) {
      throw new EnvmountError(
        'STORE_CORRUPT',
        `The registry "${file}" cannot be read (${(error as Error).message}). Move it away and add your projects again with \`envmount add\`.`,
        { cause: error },
      );
    }
    for (const record of parsed.mounts) registry.#mounts.set(record.path, record);
    return registry;
  }

  all(): MountRecord[] {
    return [...this.#mounts.values()];
  }

  get(path: string): MountRecord | undefined {
    return this.#mounts.get(path);
  }

  async put(record: MountRecord): Promise<void> {
    this.#mounts.set(record.path, record);
    await this.#save();
  }

  async delete(path: string): Promise<boolean> {
    if (!this.#mounts.delete(path)) return false;
    await this.#save();
    return true;
  }

  // Saves are serialized; each writes the registry as it is when it runs.
  #save(): Promise<void> {
    const run = this.#saving.then(async () => {
      await ensurePrivateDir(dirname(this.#file));
      const body: RegistryFile = { version: 1, mounts: this.all() };
      await writeFileAtomic(this.#file, `${JSON.stringify(body, null, 2)}\n`);
    });
    this.#saving = run.catch(() => undefined);
    return run;
  }
}
