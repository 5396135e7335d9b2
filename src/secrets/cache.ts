/**
 * The value cache for `op://` references: every reference all mounts need, resolved in one provider call per
 * refresh (single-flight), refreshed in the background, values in Buffers wiped when replaced or dropped. When the
 * provider fails, the last good values are served for a bounded grace (0: fail closed) and the state says why;
 * a rate limit backs off; `lock` wipes everything until `unlock`.
 */
import type { Logger } from 'pino';
import { asksOneTimePassword, environmentReference, ONE_TIME_PASSWORD_PROBLEM } from '../core/reference.js';
import { ProviderFailure, type Resolved, type SecretProvider } from './provider.js';

export type CacheState = 'empty' | 'fresh' | 'stale' | 'failing' | 'locked';

export interface CacheStatus {
  readonly provider: string;
  readonly state: CacheState;
  readonly references: number;
  readonly lastSuccessAt: string | undefined;
  readonly lastError: string | undefined;
  readonly fix: string | undefined;
  readonly nextRefreshAt: string | undefined;
}

export interface CacheOptions {
  readonly refreshMs: number;
  readonly graceMs: number;
  readonly backoffMs: number;
  readonly logger: Logger;
  /** Called after every refresh that changed what readers get (the daemon re-renders its mounts). */
  readonly onChange: () => void;
  readonly now?: () => number;
}

export class SecretCache {
  readonly #provider: SecretProvider;
  readonly #options: CacheOptions;
  // Owned here: every Buffer in #values is wiped when replaced, dropped, locked or at close.
  #values = new Map<string, Resolved>();
  #references: string[] = [];
  #environments: string[] = [];
  // Variable names of each Environment at the last refresh, or why there are none.
  #environmentNames = new Map<string, string[] | { problem: string }>();
  #inflight: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #locked = false;
  #lastSuccess: number | undefined;
  #failure: ProviderFailure | undefined;
  #failures = 0;
  #nextAt: number | undefined;

  constructor(provider: SecretProvider, options: CacheOptions) {
    this.#provider = provider;
    this.#options = options;
  }

  get provider(): SecretProvider {
    return this.#provider;
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }

  /**
   * What to keep resolved: the `op://` references of every mount and the Environments mounted. Anything not yet
   * resolved is fetched at once, in one refresh; returns whether that refresh ran.
   */
  async want(wanted: { references: readonly string[]; environments: readonly string[] }): Promise<boolean> {
    this.#references = [...new Set(wanted.references)].sort();
    this.#environments = [...new Set(wanted.environments)].sort();
    const missing =
      this.#references.some((r) => !this.#values.has(r)) ||
      this.#environments.some((id) => !this.#environmentNames.has(id));
    if (missing) await this.refresh();
    return missing;
  }

  /** The variable names of an Environment, or why they are not known. */
  environmentNames(id: string): string[] | { problem: string } {
    if (this.#locked) return { problem: 'the store is locked; run `envmount unlock`' };
    if (this.#failure && !this.#withinGrace()) {
      return { problem: `${this.#failure.message}${this.#failure.fix ? `; ${this.#failure.fix}` : ''}` };
    }
    return (
      this.#environmentNames.get(id) ?? { problem: `Environment ${id} is not resolved yet; run \`envmount refresh\`` }
    );
  }

  /** One provider call for every reference. Concurrent calls share it; a call during one runs once more after. */
  refresh(): Promise<void> {
    if (this.#locked) return Promise.resolve();
    if (this.#inflight) {
      this.#again = true;
      return this.#inflight;
    }
    this.#inflight = this.#run().finally(() => {
      this.#inflight = undefined;
      if (this.#again) {
        this.#again = false;
        void this.refresh();
      }
    });
    return this.#inflight;
  }

  async #run(): Promise<void> {
    // One-time passwords are never fetched into the cache (they would be served expired); `add` refuses them too.
    const references = this.#references.filter((r) => !asksOneTimePassword(r));
    try {
      const resolved =
        references.length > 0 ? await this.#provider.resolveAll(references) : new Map<string, Resolved>();
      for (const r of this.#references)
        if (asksOneTimePassword(r)) resolved.set(r, { problem: ONE_TIME_PASSWORD_PROBLEM });
      const names = await this.#fetchEnvironments(resolved);
      if (this.#locked) {
        wipe(resolved);
        return;
      }
      this.#environmentNames = names;
      wipe(this.#values);
      this.#values = resolved;
      // Nothing asked of the source is no success of it: status keeps saying "empty" until it answered once.
      if (references.length > 0 || this.#environments.length > 0) this.#lastSuccess = this.#now();
      this.#failure = undefined;
      this.#failures = 0;
      this.#schedule(this.#options.refreshMs);
    } catch (error) {
      const failure =
        error instanceof ProviderFailure
          ? error
          : new ProviderFailure('unavailable', `1Password failed: ${(error as Error)?.message ?? error}`);
      this.#failure = failure;
      this.#failures++;
      this.#options.logger.warn({ kind: failure.kind, reason: failure.message }, 'refresh failed');
      if (!this.#withinGrace()) wipe(this.#values);
      const backoff =
        failure.kind === 'rate-limited' ? this.#options.backoffMs * 2 ** Math.min(this.#failures - 1, 6) : 0;
      this.#schedule(Math.max(backoff, Math.min(this.#options.refreshMs, this.#options.backoffMs * this.#failures)));
    }
    this.#options.onChange();
  }

  /** Adds each Environment's variables to `into` (as op-environment:// references) and returns their names. */
  async #fetchEnvironments(into: Map<string, Resolved>): Promise<Map<string, string[] | { problem: string }>> {
    const names = new Map<string, string[] | { problem: string }>();
    for (const id of this.#environments) {
      if (!this.#provider.environmentVariables) {
        names.set(id, {
          problem: 'Environments need the 1Password SDK: `envmount login --service-account` or `--account`',
        });
        continue;
      }
      let variables: Awaited<ReturnType<NonNullable<SecretProvider['environmentVariables']>>>;
      try {
        variables = await this.#provider.environmentVariables(id);
      } catch (error) {
        // A failure of the call (network, auth, rate limit) fails the whole refresh: the last good values stay.
        wipe(into);
        throw error;
      }
      if ('problem' in variables) {
        names.set(id, variables);
        continue;
      }
      for (const v of variables) into.set(environmentReference(id, v.name).raw, { value: v.value });
      names.set(
        id,
        variables.map((v) => v.name),
      );
    }
    return names;
  }

  #withinGrace(): boolean {
    return this.#lastSuccess !== undefined && this.#now() - this.#lastSuccess < this.#options.graceMs;
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#nextAt = this.#now() + ms;
    this.#timer = setTimeout(() => void this.refresh(), ms);
    this.#timer.unref();
  }

  /** The value Buffer for a reference (read synchronously, not kept), or why there is none. */
  lookup(reference: string): Buffer | { problem: string } {
    if (this.#locked) return { problem: 'the store is locked; run `envmount unlock`' };
    if (this.#failure && !this.#withinGrace()) {
      const fix = this.#failure.fix ? `; ${this.#failure.fix}` : '';
      return { problem: `${this.#failure.message}${fix}` };
    }
    const found = this.#values.get(reference);
    if (!found) {
      // Asked for during a failure: say which, not "not resolved yet" (a refresh would fail the same way).
      const why = this.#failure ? `: ${this.#failure.message}${this.#failure.fix ? `; ${this.#failure.fix}` : ''}` : '';
      return { problem: `${reference} is not resolved yet${why || '; run `envmount refresh`'}` };
    }
    return 'value' in found ? found.value : { problem: `${reference}: ${found.problem}` };
  }

  /** Drops every value (wiped); lookups say locked until `unlock`. */
  lock(): void {
    this.#locked = true;
    wipe(this.#values);
    this.#values = new Map();
    clearTimeout(this.#timer);
    this.#nextAt = undefined;
    this.#options.onChange();
  }

  async unlock(): Promise<void> {
    this.#locked = false;
    await this.refresh();
  }

  status(): CacheStatus {
    const state: CacheState = this.#locked
      ? 'locked'
      : this.#failure
        ? this.#withinGrace()
          ? 'stale'
          : 'failing'
        : this.#lastSuccess === undefined
          ? 'empty'
          : 'fresh';
    return {
      provider: this.#provider.description,
      state,
      references: this.#references.length,
      lastSuccessAt: this.#lastSuccess !== undefined ? new Date(this.#lastSuccess).toISOString() : undefined,
      lastError: this.#failure?.message,
      fix: this.#failure?.fix,
      nextRefreshAt: this.#nextAt !== undefined ? new Date(this.#nextAt).toISOString() : undefined,
    };
  }

  close(): void {
    clearTimeout(this.#timer);
    wipe(this.#values);
    this.#values = new Map();
  }
}

function wipe(values: Map<string, Resolved>): void {
  for (const resolved of values.values()) if ('value' in resolved) resolved.value.fill(0);
  values.clear();
}
