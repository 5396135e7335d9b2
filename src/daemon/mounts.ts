/**
 * The daemon's mounts: adding, removing and restoring them, and rendering each one's content from its template
 * and the value sources. Owns every Mount and every rendered Buffer (wiped as soon as the thread has its copy).
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { MountInfo, MountStatus } from '../control/protocol.js';
import { EnvmountError } from '../core/errors.js';
import { renderDotenv } from '../core/render.js';
import { resolveEntries, type ValueSource, type VariableProblem, wipeItems } from '../secrets/resolve.js';
import { Mount } from './mount.js';
import { exists, inspectPath, placementError } from './placement.js';
import type { MountRecord, Registry } from './registry.js';
import { findTemplate, type LoadedTemplate, loadTemplate, readTemplate } from './templates.js';

export interface MountServiceDeps {
  readonly registry: Registry;
  readonly source: ValueSource;
  readonly uid: number;
  readonly writeTimeoutMs: number;
  readonly logger: Logger;
}

interface Entry {
  readonly mount: Mount;
  template: LoadedTemplate;
  problems: VariableProblem[];
  unrepresentable: readonly string[];
}

export class MountService {
  readonly #deps: MountServiceDeps;
  readonly #entries = new Map<string, Entry>();

  constructor(deps: MountServiceDeps) {
    this.#deps = deps;
  }

  /** Puts back every registered mount; one that cannot be placed is reported in status, not fatal. */
  async restore(): Promise<void> {
    await Promise.all(
      this.#deps.registry.all().map(async (record) => {
        const entry = this.#entry(record, await loadTemplate(record.template));
        try {
          await this.#start(entry);
        } catch (error) {
          const gone = !(await exists(record.dir));
          entry.mount.state = gone ? 'paused' : 'error';
          entry.mount.reason = gone
            ? `the project directory ${record.dir} is gone; run \`envmount add ${record.dir}\` when it is back, or \`envmount remove ${record.dir}\`.`
            : (error as Error).message;
          this.#deps.logger.warn({ path: record.path, err: error }, 'could not restore mount');
        }
      }),
    );
  }

  /** Adds a mount, or re-reads the template of an existing one. Validates everything before touching the path. */
  async add(dirInput: string, pathInput?: string): Promise<MountStatus> {
    const dir = resolve(dirInput);
    const path = resolve(pathInput ?? join(dir, '.env'));
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new EnvmountError('DIRECTORY_MISSING', `Cannot mount "${path}": "${dir}" is not a directory.`);
    }
    const templatePath = await findTemplate(dir);
    const entries = await readTemplate(templatePath);
    const existing = this.#entries.get(path);
    if (existing) {
      existing.template = { entries };
      if (existing.mount.state === 'serving' && (await exists(path))) {
        this.#refresh(existing);
      } else {
        // Paused, displaced or failed: start over at the path, which must be placeable again.
        await existing.mount.stop(false);
        await this.#start(existing);
      }
      return this.#status(existing);
    }
    const refusal = placementError(path, dir, await inspectPath(path, this.#deps.uid));
    if (refusal) throw refusal;
    const record: MountRecord = { path, dir, template: templatePath, addedAt: new Date().toISOString() };
    const entry = this.#entry(record, { entries });
    await this.#start(entry);
    try {
      await this.#deps.registry.put(record);
    } catch (error) {
      this.#entries.delete(path);
      await entry.mount.stop();
      throw error;
    }
    return this.#status(entry);
  }

  /** Stops a mount, removes its FIFO (if still ours) and forgets it. Accepts the FIFO path or the project dir. */
  async remove(pathOrDir: string): Promise<{ path: string }> {
    const candidates = [resolve(pathOrDir), join(resolve(pathOrDir), '.env')];
    const path = candidates.find((p) => this.#entries.has(p));
    const entry = path ? this.#entries.get(path) : undefined;
    if (!path || !entry) {
      throw new EnvmountError('NOT_A_MOUNT', `"${pathOrDir}" is not mounted. See \`envmount list\`.`);
    }
    try {
      await entry.mount.stop();
    } finally {
      this.#entries.delete(path);
      await this.#deps.registry.delete(path);
    }
    return { path };
  }

  list(): MountInfo[] {
    return [...this.#entries.values()].map((entry) => this.#info(entry));
  }

  async status(): Promise<MountStatus[]> {
    return Promise.all([...this.#entries.values()].map((entry) => this.#checkedStatus(entry)));
  }

  /** Re-renders every mount (after the store changed). Returns how many mounts reference `name`, if given. */
  refreshAll(name?: string): number {
    let using = 0;
    for (const entry of this.#entries.values()) {
      this.#refresh(entry);
      if (name !== undefined && 'entries' in entry.template) {
        const uses = entry.template.entries.some((e) =>
          e.parts.some((p) => p.kind === 'ref' && p.ref.scheme === 'envmount' && p.ref.name === name),
        );
        if (uses) using++;
      }
    }
    return using;
  }

  async stopAll(): Promise<void> {
    const results = await Promise.allSettled([...this.#entries.values()].map((entry) => entry.mount.stop()));
    for (const result of results) {
      if (result.status === 'rejected') this.#deps.logger.error({ err: result.reason }, 'mount stop failed');
    }
  }

  #entry(record: MountRecord, template: LoadedTemplate): Entry {
    const entry: Entry = {
      mount: new Mount(record, this.#deps),
      template,
      problems: [],
      unrepresentable: [],
    };
    this.#entries.set(record.path, entry);
    return entry;
  }

  async #start(entry: Entry): Promise<void> {
    const content = this.#render(entry);
    try {
      await entry.mount.start(content);
    } finally {
      content.fill(0);
    }
  }

  #refresh(entry: Entry): void {
    const content = this.#render(entry);
    try {
      entry.mount.update(content);
    } finally {
      content.fill(0);
    }
  }

  /** The bytes a reader of this mount gets now. The caller wipes them. */
  #render(entry: Entry): Buffer {
    if ('error' in entry.template) {
      entry.problems = [];
      return Buffer.from(`# envmount: this mount's template has an error: ${entry.template.error}\n`);
    }
    const { items, problems } = resolveEntries(entry.template.entries, this.#deps.source);
    try {
      const rendered = renderDotenv(items);
      entry.problems = problems;
      entry.unrepresentable = rendered.unrepresentable;
      return rendered.content;
    } finally {
      wipeItems(items);
    }
  }

  #info(entry: Entry): MountInfo {
    const { record, state } = entry.mount;
    const variables = 'entries' in entry.template ? entry.template.entries.map((e) => e.key) : [];
    return { path: record.path, dir: record.dir, template: record.template, state, variables };
  }

  #status(entry: Entry): MountStatus {
    const { mount } = entry;
    const templateError = 'error' in entry.template ? entry.template.error : undefined;
    return {
      ...this.#info(entry),
      state: templateError && mount.state === 'serving' ? 'error' : mount.state,
      reason: templateError ?? mount.reason,
      reads: mount.reads,
      lastReadAt: mount.lastReadAt?.toISOString(),
      bytesPerRead: mount.bytesPerRead,
      contentLocked: mount.contentLocked,
      problems: entry.problems,
      unrepresentable: entry.unrepresentable,
    };
  }

  /** Status with the path checked now: a serving mount whose FIFO or directory vanished is reported paused. */
  async #checkedStatus(entry: Entry): Promise<MountStatus> {
    const status = this.#status(entry);
    if (status.state !== 'serving' || (await exists(status.path))) return status;
    const dirGone = !(await exists(status.dir));
    return {
      ...status,
      state: 'paused',
      reason: dirGone
        ? `the project directory ${status.dir} is gone; run \`envmount add ${status.dir}\` when it is back, or \`envmount remove ${status.dir}\`.`
        : `the pipe at ${status.path} was removed; run \`envmount add ${status.dir}\` to put it back.`,
    };
  }
}
