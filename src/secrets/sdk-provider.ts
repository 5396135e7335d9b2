/**
 * 1Password through the official SDK: every reference in one `client.secrets.resolveAll`, per-reference errors
 * mapped to problems, whole-call errors classified with the table in onepassword-errors.ts into ProviderFailure.
 * Every call has a deadline (the SDK has none: against a server that never answers it waits forever). The client is
 * given (the real one is built in sdk-client.ts; tests pass a fake typed by the SDK's own interfaces).
 */
import type { Client, ResolveReferenceError } from '@1password/sdk';
import { classify } from './classify-error.js';
import { SDK_ERRORS } from './onepassword-errors.js';
import { ProviderFailure, type Resolved, type SecretProvider } from './provider.js';

/** The SDK's error classes and validator, passed in so that this module never loads the SDK itself. */
export interface SdkBindings {
  readonly RateLimitExceededError: new (message: string) => Error;
  readonly DesktopSessionExpiredError: new (message: string) => Error;
  readonly validateSecretReference: (reference: string) => void;
}

const PROBLEMS: Record<ResolveReferenceError['type'], string> = {
  parsing: 'the reference cannot be parsed',
  fieldNotFound: 'no such field in the item',
  vaultNotFound: 'no vault matches',
  tooManyVaults: 'more than one vault matches; use the vault ID',
  itemNotFound: 'no item matches',
  tooManyItems: 'more than one item matches; use the item ID',
  tooManyMatchingFields: 'more than one field matches; add the section',
  noMatchingSections: 'no such section in the item',
  incompatibleTOTPQueryParameterField: 'that field has no one-time password',
  unableToGenerateTotpCode: 'the one-time password cannot be generated',
  sSHKeyMetadataNotFound: 'that field is not an SSH key',
  unsupportedFileFormat: 'only text files can be read',
  incompatibleSshKeyQueryParameterField: 'that field is not a private key',
  unableToParsePrivateKey: 'the private key cannot be parsed',
  unableToFormatPrivateKeyToOpenSsh: 'the private key cannot be written as OpenSSH',
  other: '1Password could not resolve it',
};

export function describeReferenceError(error: ResolveReferenceError): string {
  return PROBLEMS[error.type] ?? '1Password could not resolve it';
}

/** The text of whatever the SDK threw (an Error, or a string from its validator), without the token. */
export function sdkMessage(error: unknown, secret?: string): string {
  const raw = typeof error === 'string' ? error : ((error as Error)?.message ?? String(error));
  return (secret ? raw.split(secret).join('[token]') : raw).slice(0, 300);
}

/**
 * What an SDK error is: a ProviderFailure for the whole call, or `{ problem }` when it is about one thing (an
 * Environment that is not there). `fix` is the source's own command for auth failures.
 */
export function classifySdkError(
  error: unknown,
  sdk: Pick<SdkBindings, 'RateLimitExceededError' | 'DesktopSessionExpiredError'>,
  fix: string,
  secret?: string,
): ProviderFailure | { problem: string } {
  if (error instanceof ProviderFailure) return error;
  const message = sdkMessage(error, secret);
  if (error instanceof sdk.RateLimitExceededError) {
    return new ProviderFailure('rate-limited', '1Password rate limit reached', undefined, { cause: error });
  }
  if (error instanceof sdk.DesktopSessionExpiredError) {
    return new ProviderFailure('auth', '1Password app session ended (locked?)', fix, { cause: error });
  }
  const entry = classify(SDK_ERRORS, message);
  if (entry?.kind === 'reference') return { problem: entry.reason };
  const kind = entry?.kind ?? 'unavailable';
  const fixFor = entry?.fix ?? (kind === 'auth' ? fix : undefined);
  return new ProviderFailure(kind, `${entry?.reason ?? '1Password SDK failed'} (${message})`, fixFor, {
    cause: error,
  });
}

/** `call()`, or a ProviderFailure once `ms` have passed (the SDK call itself cannot be cancelled). */
export async function withDeadline<T>(call: () => Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProviderFailure('unavailable', `${what} did not answer within ${Math.round(ms / 1000)} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([call(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SdkProviderOptions {
  readonly description: string;
  /** The command that fixes an auth failure of this source. */
  readonly fix: string;
  /** Deadline of each SDK call (60 s when absent). */
  readonly timeoutMs?: number;
  /** Told of every whole-call auth failure (the client is then built again at the next call). */
  readonly onAuthFailure?: () => void;
}

export function sdkProvider(
  client: Pick<Client, 'secrets'> & Partial<Pick<Client, 'environments'>>,
  sdk: SdkBindings,
  options: SdkProviderOptions,
): SecretProvider {
  const call = async <T>(run: () => Promise<T>): Promise<T | { problem: string }> => {
    try {
      return await withDeadline(run, options.timeoutMs ?? 60_000, '1Password');
    } catch (error) {
      const failure = classifySdkError(error, sdk, options.fix);
      if (failure instanceof ProviderFailure && failure.kind === 'auth') options.onAuthFailure?.();
      if (failure instanceof ProviderFailure) throw failure;
      return failure;
    }
  };
  return {
    description: options.description,
    async resolveAll(references) {
      const out = new Map<string, Resolved>();
      if (references.length === 0) return out;
      const response = await call(() => client.secrets.resolveAll([...references]));
      // A "not found" for the whole call is no reference's: the call failed.
      if ('problem' in response) throw new ProviderFailure('unavailable', `1Password: ${response.problem}`);
      for (const reference of references) {
        const result = response.individualResponses[reference];
        if (result?.content) out.set(reference, { value: Buffer.from(result.content.secret, 'utf8') });
        else if (result?.error) out.set(reference, { problem: describeReferenceError(result.error) });
        else out.set(reference, { problem: '1Password returned nothing for it' });
      }
      return out;
    },
    async environmentVariables(id) {
      const environments = client.environments;
      if (!environments) throw new ProviderFailure('unavailable', 'this 1Password client has no Environments API');
      const response = await call(() => environments.getVariables(id));
      if ('problem' in response) return { problem: `Environment ${id}: ${response.problem}` };
      return response.variables.map((v) => ({ name: v.name, value: Buffer.from(v.value, 'utf8') }));
    },
    validate(reference) {
      try {
        sdk.validateSecretReference(reference);
        return undefined;
      } catch (error) {
        // The SDK throws a JSON string, not an Error.
        const text = typeof error === 'string' ? error : String((error as Error)?.message ?? error);
        try {
          return (JSON.parse(text) as { message?: string }).message ?? text;
        } catch {
          return text;
        }
      }
    },
  };
}
