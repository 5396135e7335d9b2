/**
 * A source of `op://` values (the 1Password SDK or the `op` CLI). One call resolves every reference all mounts
 * need. A reference that fails marks that reference only; a failure of the whole call (network, timeout, auth, rate
 * limit, output that cannot be read) is a ProviderFailure: the cache keeps the last good values for the grace
 * period, and its kind decides the rest (back off, show the fix).
 */
import { EnvmountError } from '../core/errors.js';

export type Resolved = { readonly value: Buffer } | { readonly problem: string };

export interface SecretProvider {
  /** For status: "1Password SDK (service account)", "op CLI". */
  readonly description: string;
  /** Resolves each reference; the Buffers are the caller's to keep and wipe. */
  resolveAll(references: readonly string[]): Promise<Map<string, Resolved>>;
  /** Whether the source can run at all (the op CLI: its executable answers `op --version`); a throw says why. */
  check?(): Promise<void>;
  /** A syntax problem with a reference, found without the network, or undefined. */
  validate(reference: string): string | undefined;
  /**
   * The variables of a 1Password Environment (the SDK only), or why that Environment has none (it alone is marked);
   * a throw fails the whole refresh. The Buffers are the caller's to keep and wipe.
   */
  environmentVariables?(id: string): Promise<Array<{ name: string; value: Buffer }> | { problem: string }>;
}

export type FailureKind = 'rate-limited' | 'auth' | 'unavailable';

export class ProviderFailure extends Error {
  override readonly name = 'ProviderFailure';
  readonly kind: FailureKind;
  /** The command that fixes it, for status and reader comments. */
  readonly fix: string | undefined;

  constructor(kind: FailureKind, message: string, fix?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.fix = fix;
  }
}

export function validationError(reference: string, problem: string): EnvmountError {
  return new EnvmountError('REFERENCE_INVALID', `Invalid reference "${reference}": ${problem}.`);
}
