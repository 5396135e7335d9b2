/**
 * Which 1Password source the daemon uses, and its value cache. A token in the daemon's environment wins; otherwise
 * the choice made with `envmount login` (kept in a settings file holding no secret: a service account token goes
 * into the encrypted store under a reserved name). Providers are built by the factory src/bin wires.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { EnvmountError, errnoCode } from '../core/errors.js';
import { RESERVED_PREFIX } from '../core/reference.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { type CacheStatus, SecretCache } from './cache.js';
import type { ProviderFailure, SecretProvider } from './provider.js';
import type { EmbeddedStore } from './store.js';

export type ProviderSpec =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'account'; readonly account: string }
  | { readonly kind: 'op-cli' };

export type ProviderFactory = (spec: ProviderSpec) => Promise<SecretProvider>;

/** The store name of a token saved with `envmount login --service-account` (hidden from `vars`). */
export const TOKEN_NAME = `${RESERVED_PREFIX}op-service-account-token`;

type Settings = { kind: 'token' } | { kind: 'account'; account: string } | { kind: 'op-cli' };

export interface OnePasswordDeps {
  readonly factory: ProviderFactory;
  readonly settingsFile: string;
  readonly store: EmbeddedStore;
  readonly logger: Logger;
  readonly refreshMs: number;
  readonly graceMs: number;
  readonly backoffMs: number;
  /** After each refresh: re-render the mounts. */
  readonly onChange: () => void;
}

export class OnePassword {
  readonly #deps: OnePasswordDeps;
  // Owned here: the current cache (replaced by login/logout; the old one is closed and wiped).
  #cache: SecretCache | undefined;
  #references: string[] = [];
  #environments: string[] = [];

  constructor(deps: OnePasswordDeps) {
    this.#deps = deps;
  }

  get cache(): SecretCache | undefined {
    return this.#cache;
  }

  /** Picks the provider at start: a token from the environment (taken over by the caller), else the saved choice. */
  async start(envToken: string | undefined): Promise<void> {
    if (envToken) return this.#use({ kind: 'token', token: envToken });
    const settings = await this.#readSettings();
    if (!settings) return;
    if (settings.kind === 'token') {
      const token = this.#deps.store.peek(TOKEN_NAME);
      if (token) await this.#use({ kind: 'token', token: token.toString('utf8') });
    } else {
      await this.#use(
        settings.kind === 'account' ? { kind: 'account', account: settings.account } : { kind: 'op-cli' },
      );
    }
  }

  async login(spec: ProviderSpec): Promise<CacheStatus> {
    // Nothing is saved for a source that cannot run (an op CLI that is not installed, say).
    const provider = await this.#deps.factory(spec);
    try {
      await provider.check?.();
    } catch (error) {
      const failure = error as ProviderFailure;
      const fix = failure.fix ? ` Fix: ${failure.fix}.` : '';
      throw new EnvmountError('NOT_FOUND', `${provider.description} cannot be used: ${failure.message}.${fix}`, {
        cause: error,
      });
    }
    if (spec.kind === 'token') {
      await this.#deps.store.setMany([{ name: TOKEN_NAME, value: Buffer.from(spec.token, 'utf8') }]);
    }
    const settings: Settings =
      spec.kind === 'account' ? { kind: 'account', account: spec.account } : { kind: spec.kind };
    await writeFileAtomic(this.#deps.settingsFile, `${JSON.stringify(settings)}\n`);
    this.#install(provider);
    await this.#cache?.refresh();
    const status = this.status();
    if (!status) throw new EnvmountError('INTERNAL', '1Password was not configured.');
    return status;
  }

  validate(reference: string): string | undefined {
    return this.#cache?.provider.validate(reference);
  }

  /** What the mounts need (`op://` references, Environments); new ones are resolved before this returns, in one
   * refresh. Returns whether a refresh ran. */
  async want(references: readonly string[], environments: readonly string[]): Promise<boolean> {
    this.#references = [...references];
    this.#environments = [...environments];
    return (await this.#cache?.want({ references, environments })) ?? false;
  }

  /** One provider call for every reference now (`envmount refresh`). */
  async refresh(): Promise<void> {
    await this.#cache?.refresh();
  }

  status(): CacheStatus | undefined {
    return this.#cache?.status();
  }

  close(): void {
    this.#cache?.close();
    this.#cache = undefined;
  }

  async #use(spec: ProviderSpec): Promise<void> {
    this.#install(await this.#deps.factory(spec));
  }

  #install(provider: SecretProvider): void {
    this.#cache?.close();
    const { logger, refreshMs, graceMs, backoffMs, onChange } = this.#deps;
    this.#cache = new SecretCache(provider, { logger, refreshMs, graceMs, backoffMs, onChange });
    logger.info({ provider: provider.description }, '1Password source configured');
    void this.#cache.want({ references: this.#references, environments: this.#environments });
  }

  async #readSettings(): Promise<Settings | undefined> {
    try {
      return JSON.parse(await readFile(this.#deps.settingsFile, 'utf8')) as Settings;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      this.#deps.logger.warn({ err: error }, 'ignoring an unreadable 1Password settings file');
      return undefined;
    }
  }
}
