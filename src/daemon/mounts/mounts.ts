import { join, resolve } from 'node:path';
import type { MountInfo, MountStatus } from '../../control/protocol.js';
import { EnvmountError, errnoCode } from '../../core/errors.js';
import { DEFAULT_POLICY, type Rule } from '../../core/policy.js';
import { applyPolicyOptions, changesPolicy, type PolicyOptions, withAlwaysRule } from '../../core/policy-edit.js';
import { usesNamespace, usesStoreName, validateOpReferences } from '../templates/template-references.js';
import { type LoadedTemplate, loadTemplate } from '../templates/templates.js';
import { chooseBackend } from './backends/backends.js';
import { excludeFromGit } from './git-exclude.js';
import { HealSchedule } from './heal/heal-schedule.js';
import type { MountServiceDeps } from './mount-deps.js';
import { createEntry, type Entry, mountCovering } from './mount-entry.js';
import { changePolicy, storePolicy } from './mount-policy.js';
import { directoryGoneReason } from './mount-reasons.js';
import { checkedMountStatus, mountInfo, mountStatus, withWarnings } from './mount-status.js';
import { exists, inspectPath, placementError } from './placement.js';
import { ReferenceLeases, wantedReferences } from './reference-leases.js';
import type { MountRecord } from './registry.js';
import { renderEntry, takeEnvironmentTemplate } from './render-mount.js';
import { type AddOptions, hasTemplateFile, mountSource, storeEnvironmentLabel } from './template-source.js';

export class MountService {
  readonly #deps: MountServiceDeps;
  readonly #entries = new Map<string, Entry>();
  readonly #leases = new ReferenceLeases();
  readonly #heals: HealSchedule<Entry>;

  constructor(deps: MountServiceDeps) {
    this.#deps = deps;
    this.#heals = new HealSchedule({
      entries: () => this.#entries.values(),
      restart: (entry) => this.#restart(entry),
      uid: deps.uid,
      logger: deps.logger,
    });
  }

  /** Puts back every registered mount; one that cannot be placed is reported in status, not fatal. */
  async restore(): Promise<void> {
    await Promise.all(
      this.#deps.registry.all().map(async (record) => {
        // Environment mounts take their variables at render time.
        const template = hasTemplateFile(record) ? await loadTemplate(record.template) : { entries: [] };
        const entry = this.#entry(record, template);
        try {
          await this.#start(entry);
        } catch (error) {
          const gone = !(await exists(record.dir));
          if (gone) entry.mount.pause(directoryGoneReason(record.dir));
          else if (errnoCode(error) === 'SHARED_DIRECTORY') entry.mount.pause((error as Error).message);
          else entry.mount.fail((error as Error).message);
          this.#deps.logger.warn({ path: record.path, err: error }, 'could not restore mount');
        }
      }),
    );
    // Not awaited: a slow or offline 1Password must not hold up the mounts (readers get a comment until it answers).
    void this.#syncReferences().catch((error: unknown) =>
      this.#deps.logger.warn({ err: error }, 'initial refresh failed'),
    );
  }

  /** Adds a mount, or re-reads the template of an existing one. Validates everything before touching the path. */
  async add(options: AddOptions): Promise<MountStatus> {
    const { format, environment, storeEnvironment, allowSharedDir, ...policy } = options;
    const { dir, path, templatePath, entries } = await mountSource(options, this.#deps.storeEnvironments);
    validateOpReferences(templatePath, entries, (ref) => this.#deps.references.validate(ref));
    const existing = this.#entries.get(path);
    const warnings: string[] = [];
    const backend = chooseBackend(path, dir, options, existing?.mount.backend);
    if (existing) {
      existing.template = { entries };
      if (allowSharedDir) existing.mount.record = { ...existing.mount.record, allowSharedDir: true };
      if (changesPolicy(policy)) await changePolicy(existing, policy, this.#deps, warnings);
      if ((format && format !== existing.format) || allowSharedDir) {
        existing.format = format ?? existing.format;
        await this.#deps.registry.put({ ...existing.mount.record, policy: existing.policy, format: existing.format });
      }
      if (existing.mount.state === 'serving' && (await exists(path))) {
        this.#refresh(existing);
      } else {
        // Paused, displaced or failed: start over at the path, which must be placeable again.
        await existing.mount.stop(false);
        await this.#start(existing);
      }
      return withWarnings(mountStatus(existing, this.#deps), warnings);
    }
    // The FUSE backend places (and judges) its own placeholder.
    const refusal = backend === 'fuse' ? undefined : placementError(path, dir, await inspectPath(path, this.#deps.uid));
    if (refusal) throw refusal;
    const record: MountRecord = {
      path,
      dir,
      template: templatePath,
      ...(environment ? { environment } : {}),
      ...(storeEnvironment ? { storeEnvironment } : {}),
      addedAt: new Date().toISOString(),
      policy: applyPolicyOptions(DEFAULT_POLICY, policy, dir, warnings),
      ...(format && format !== 'dotenv' ? { format } : {}),
      ...(allowSharedDir ? { allowSharedDir: true as const } : {}),
      ...(backend === 'fuse' ? { backend } : {}),
    };
    const entry = this.#entry(record, { entries });
    let notice: string | undefined;
    try {
      // Resolved before the first reader can come: the mount starts with its values, not a "not resolved" line.
      await this.#syncReferences();
      // A regular file at the path: git is told to ignore it before it is there.
      notice = backend === 'fuse' ? await excludeFromGit(dir, path) : undefined;
      await this.#start(entry);
      await this.#deps.registry.put(record);
      // An edit of the template right after `add` returns is noticed.
      await entry.watching;
    } catch (error) {
      this.#entries.delete(path);
      entry.unwatch();
      await entry.mount.stop();
      void this.#syncReferences();
      throw error;
    }
    return withWarnings({ ...mountStatus(entry, this.#deps), ...(notice ? { notice } : {}) }, warnings);
  }

  /** Stops a mount, removes its FIFO (if still ours) and forgets it. Accepts the FIFO path or the project dir. */
  async remove(pathOrDir: string): Promise<{ path: string }> {
    const entry = this.#find(pathOrDir);
    const path = entry.mount.path;
    entry.unwatch();
    try {
      await entry.mount.stop();
    } finally {
      this.#entries.delete(path);
      await this.#deps.registry.delete(path);
      void this.#syncReferences();
    }
    return { path };
  }

  /** Changes who may read a mount; stored in the registry, applied from the next reader on. */
  async setPolicy(pathOrDir: string, options: PolicyOptions): Promise<MountStatus> {
    const entry = this.#find(pathOrDir);
    const warnings = await changePolicy(entry, options, this.#deps);
    return withWarnings(mountStatus(entry, this.#deps), warnings);
  }

  /** `envmount approve --always`: the narrowest rule naming the reader (core/refusal-advice.ts), stored. */
  async allowAlways(path: string, rule: Rule, entry = this.#entries.get(path)): Promise<void> {
    const policy = entry && withAlwaysRule(entry.policy, rule, new Date());
    if (entry && policy) await storePolicy(entry, policy, this.#deps);
  }

  /** A store environment changed (its variables, or its name, from `from`): its mounts follow and render again. */
  async storeEnvironmentChanged(name: string, from = name): Promise<void> {
    const using = [...this.#entries.values()].filter((e) => e.mount.record.storeEnvironment === from);
    for (const entry of using) {
      if (from !== name) {
        entry.mount.record = { ...entry.mount.record, storeEnvironment: name, template: storeEnvironmentLabel(name) };
        await this.#deps.registry.put({ ...entry.mount.record, policy: entry.policy, format: entry.format });
      }
      takeEnvironmentTemplate(entry, this.#deps.source, this.#deps.storeEnvironments);
    }
    await this.#syncReferences();
    for (const entry of using) this.#refresh(entry);
  }

  /**
   * The path of a mount whose template names a value under `name/`, or (`served`) that serves the environment
   * `name` (such a mount follows a rename of it; a template does not).
   */
  referencing(name: string, served: boolean): string | undefined {
    const entries = [...this.#entries.values()];
    const serves = (e: Entry) => served && e.mount.record.storeEnvironment === name;
    const names = (e: Entry) => e.mount.record.storeEnvironment === undefined && usesNamespace(e.template, name);
    const found = entries.find((e) => serves(e) || names(e));
    return found?.mount.path;
  }

  /** The FIFO path of the mount at `pathOrDir` (its path or its project dir). */
  pathOf(pathOrDir: string): string {
    return this.#find(pathOrDir).mount.path;
  }

  list(): MountInfo[] {
    return [...this.#entries.values()].map((entry) => mountInfo(entry));
  }

  async status(): Promise<MountStatus[]> {
    return Promise.all([...this.#entries.values()].map((entry) => checkedMountStatus(entry, this.#deps)));
  }

  /** Re-renders every mount (after the store changed). Returns how many mounts reference `name`, if given. */
  refreshAll(name?: string): number {
    let using = 0;
    for (const entry of this.#entries.values()) {
      this.#refresh(entry);
      if (name !== undefined && usesStoreName(entry.template, name)) using++;
    }
    return using;
  }

  /** Looking at mount paths and healing them (HealSchedule); `watched`: the watcher reports changes. */
  startHealing = (watched: boolean): void => this.#heals.start(watched);
  stopHealing = (): void => this.#heals.close();

  async stopAll(): Promise<void> {
    this.#heals.close();
    for (const entry of this.#entries.values()) entry.unwatch();
    const results = await Promise.allSettled([...this.#entries.values()].map((entry) => entry.mount.stop()));
    for (const result of results) {
      if (result.status === 'rejected') this.#deps.logger.error({ err: result.reason }, 'mount stop failed');
    }
  }

  /** Re-reads a mount's template (or all) and resolves every reference again: `envmount refresh [DIR]`. */
  async reload(pathOrDir?: string): Promise<MountStatus[]> {
    const targets = pathOrDir === undefined ? [...this.#entries.values()] : [this.#find(pathOrDir)];
    for (const entry of targets) {
      if (hasTemplateFile(entry.mount.record)) entry.template = await loadTemplate(entry.mount.record.template);
    }
    // One provider call: the sync already made it when the templates brought new references.
    if (!(await this.#syncReferences())) await this.#deps.references.refresh();
    this.refreshAll();
    return targets.map((entry) => mountStatus(entry, this.#deps));
  }

  /** The mount of a project directory: the mount whose directory is `dir` or its nearest ancestor. */
  mountFor(dir: string): Entry | undefined {
    return mountCovering(this.#entries.values(), dir);
  }

  /** Keeps these resolved as well (for `envmount run`) for `forMs`; anything new is resolved before it returns. */
  async lease(references: readonly string[], environments: readonly string[], forMs: number): Promise<void> {
    this.#leases.add(references, environments, forMs);
    await this.#syncReferences();
  }

  #syncReferences(): Promise<boolean> {
    const { references, environments } = wantedReferences([...this.#entries.values()], this.#leases);
    return this.#deps.references.want(references, environments);
  }

  #find(pathOrDir: string): Entry {
    const candidates = [resolve(pathOrDir), join(resolve(pathOrDir), '.env')];
    const entry = candidates.map((p) => this.#entries.get(p)).find((e) => e !== undefined);
    if (!entry) throw new EnvmountError('NOT_A_MOUNT', `"${pathOrDir}" is not mounted. See \`envmount list\`.`);
    return entry;
  }

  #entry(record: MountRecord, template: LoadedTemplate): Entry {
    const entry = createEntry(record, template, this.#deps, {
      // A decided read: the content only; status fields are recomputed at each refresh, not at each read.
      render: (e) => this.#render(e, false),
      // A template edit re-reads the template and resolves its references again; the next reader gets the result.
      look: (e) => this.#heals.lookSoon(e),
      templateChanged: () => {
        if (this.#entries.get(record.path) !== entry) return;
        this.reload(record.path).catch((error: unknown) =>
          this.#deps.logger.warn({ err: error }, 'template reload failed'),
        );
      },
    });
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

  /** Places a mount again after its path or directory came back: template re-read and watched again. */
  async #restart(entry: Entry): Promise<void> {
    await entry.mount.stop(false);
    if (hasTemplateFile(entry.mount.record)) entry.template = await loadTemplate(entry.mount.record.template);
    entry.rewatch();
    await this.#start(entry);
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
  #render(entry: Entry, diagnose = true): Buffer {
    return renderEntry(entry, this.#deps.source, this.#deps.storeEnvironments, diagnose);
  }
}
