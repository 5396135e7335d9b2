/** What the MountService is given (wired by the daemon): its own module, so that the mount entry and the healer
 * can name it without importing the service. */
import type { Logger } from 'pino';
import type { TemplateEntry } from '../../core/template.js';
import type { ValueSource } from '../../secrets/resolve.js';
import type { AuditLog } from '../readers/audit.js';
import type { ReaderGate } from '../readers/reader-gate.js';
import type { Registry } from './registry.js';

/** The template of an environment of the store (environments/environments.ts), or why there is none. */
export type StoreEnvironments = (name: string) => TemplateEntry[] | { problem: string };

export interface MountServiceDeps {
  readonly registry: Registry;
  readonly source: ValueSource;
  readonly uid: number;
  readonly writeTimeoutMs: number;
  readonly logger: Logger;
  readonly audit: AuditLog;
  readonly gate: ReaderGate;
  /** The templates of the store's environments (a mount may serve one instead of a template file). */
  readonly storeEnvironments: StoreEnvironments;
  /** The 1Password side: syntax checks for `op://` references and the set of references to keep resolved. */
  readonly references: {
    validate(reference: string): string | undefined;
    /** Keeps these resolved; anything new is resolved before it returns. Returns whether a refresh ran. */
    want(references: readonly string[], environments: readonly string[]): Promise<boolean>;
    /** Resolves every reference again now (one provider call). */
    refresh(): Promise<void>;
  };
}
