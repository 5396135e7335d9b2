/**
 * The daemon's mounts: adding, removing and restoring them, and rendering each one's content from its template
 * and the value sources. Owns every Mount and every rendered Buffer (wiped as soon as the thread has its copy).
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { MountInfo, MountStatus } from '../control/protocol.js';
import { EnvmountError } from '../core/errors.js';
import { buildPolicy, DEFAULT_POLICY, type Fallback, needsNoDecision, type Policy } from '../core/policy.js';
import { renderDotenv } from '../core/render.js';
import { resolveEntries, type ValueSource, type VariableProblem, wipeItems } from '../secrets/resolve.js';
import type { AuditLog } from './audit.js';
import { Mount } from './mount.js';
import { checkedMountStatus, mountInfo, mountStatus } from './mount-status.js';
import { exists, inspectPath, placementError } from './placement.js';
import type { ReaderGate } from './reader-gate.js';
import type { MountRecord, Registry } from './registry.js';
import { findTemplate, type LoadedTemplate, loadTemplate, readTemplate } from './templates.js';

export interface MountServiceDeps {
  readonly registry: Registry;
  readonly source: ValueSource;
  readonly uid: number;
  readonly writeTimeoutMs: number;
  readonly logger: Logger;
  readonly audit: AuditLog;
  readonly gate: ReaderGate;
}

export interface PolicyOptions {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  readonly otherwise?: Fallback;
  /** Start from the default (ask) instead of the mount's current policy. */
  readonly reset?: boolean;
}

export interface Entry {
  readonly mount: Mount;
  policy: Policy;
  collisions: number;
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
  async add(dirInput: string, pathInput?: string, policy: PolicyOptions = {}): Promise<MountStatus> {
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
      if (policy.allow || policy.deny || policy.otherwise || policy.reset) await this.#changePolicy(existing, policy);
      if (existing.mount.state === 'serving' && (await exists(path))) {
        this.#refresh(existing);
      } else {
        // Paused, displaced or failed: start over at the path, which must be placeable again.
        await existing.mount.stop(false);
        await this.#start(existing);
      }
      return mountStatus(existing, this.#deps.audit);
    }
    const refusal = placementError(path, dir, await inspectPath(path, this.#deps.uid));
    if (refusal) throw refusal;
    const record: MountRecord = {
      path,
      dir,
      template: templatePath,
      addedAt: new Date().toISOString(),
      policy: policyFrom(DEFAULT_POLICY, policy),
    };
    const entry = this.#entry(record, { entries });
    await this.#start(entry);
    try {
      await this.#deps.registry.put(record);
    } catch (error) {
      this.#entries.delete(path);
      await entry.mount.stop();
      throw error;
    }
    return mountStatus(entry, this.#deps.audit);
  }

  /** Stops a mount, removes its FIFO (if still ours) and forgets it. Accepts the FIFO path or the project dir. */
  async remove(pathOrDir: string): Promise<{ path: string }> {
    const entry = this.#find(pathOrDir);
    const path = entry.mount.path;
    try {
      await entry.mount.stop();
    } finally {
      this.#entries.delete(path);
      await this.#deps.registry.delete(path);
    }
    return { path };
  }

  /** Changes who may read a mount; stored in the registry, applied from the next reader on. */
  async setPolicy(pathOrDir: string, options: PolicyOptions): Promise<MountStatus> {
    const entry = this.#find(pathOrDir);
    await this.#changePolicy(entry, options);
    return mountStatus(entry, this.#deps.audit);
  }

  /** `envmount approve --always`: a stored rule allowing this executable on this mount. */
  async allowAlways(path: string, exe: string): Promise<void> {
    const entry = this.#entries.get(path);
    if (entry) await this.#changePolicy(entry, { allow: [`exe:${exe}`] });
  }

  /** The FIFO path of the mount at `pathOrDir` (its path or its project dir). */
  pathOf(pathOrDir: string): string {
    return this.#find(pathOrDir).mount.path;
  }

  list(): MountInfo[] {
    return [...this.#entries.values()].map((entry) => mountInfo(entry));
  }

  async status(): Promise<MountStatus[]> {
    return Promise.all([...this.#entries.values()].map((entry) => checkedMountStatus(entry, this.#deps.audit)));
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

  #find(pathOrDir: string): Entry {
    const candidates = [resolve(pathOrDir), join(resolve(pathOrDir), '.env')];
    const entry = candidates.map((p) => this.#entries.get(p)).find((e) => e !== undefined);
    if (!entry) throw new EnvmountError('NOT_A_MOUNT', `"${pathOrDir}" is not mounted. See \`envmount list\`.`);
    return entry;
  }

  async #changePolicy(entry: Entry, options: PolicyOptions): Promise<void> {
    const policy = policyFrom(options.reset ? DEFAULT_POLICY : entry.policy, options);
    await this.#deps.registry.put({ ...entry.mount.record, policy });
    entry.policy = policy;
    entry.mount.setDecide(!needsNoDecision(policy));
  }

  #entry(record: MountRecord, template: LoadedTemplate): Entry {
    const { audit, gate, logger } = this.#deps;
    const hooks = {
      onServed: (event: { bytes: number }) => {
        audit.record({
          mount: record.path,
          decision: 'served',
          reason: undefined,
          bytes: event.bytes,
          reader: undefined,
          others: [],
        });
      },
      onReader: (event: Parameters<ReaderGate['handle']>[1]) => {
        gate
          .handle(this.#gated(entry), event)
          .catch((error: unknown) => logger.error({ err: error }, 'reader decision failed'));
      },
    };
    const entry: Entry = {
      mount: new Mount(record, this.#deps, hooks),
      policy: record.policy ?? DEFAULT_POLICY,
      collisions: 0,
      template,
      problems: [],
      unrepresentable: [],
    };
    entry.mount.setDecide(!needsNoDecision(entry.policy));
    this.#entries.set(record.path, entry);
    return entry;
  }

  #gated(entry: Entry) {
    return {
      path: entry.mount.path,
      dir: entry.mount.record.dir,
      policy: entry.policy,
      render: () => this.#render(entry),
      noteCollision: () => {
        entry.collisions++;
      },
    };
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
}

function policyFrom(base: Policy, options: PolicyOptions): Policy {
  const built = buildPolicy(base, {
    ...(options.allow ? { allow: options.allow } : {}),
    ...(options.deny ? { deny: options.deny } : {}),
  });
  return options.otherwise ? { ...built, fallback: options.otherwise } : built;
}
