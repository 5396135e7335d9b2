/**
 * 1Password through the official SDK: every reference in one `client.secrets.resolveAll`, per-reference errors
 * mapped to problems, whole-call errors (rate limit, expired auth) to ProviderFailure. The client is given (the
 * real one is built in src/bin; tests pass a fake typed by the SDK's own interfaces).
 */
import type { Client, ResolveReferenceError } from '@1password/sdk';
import { ProviderFailure, type Resolved, type SecretProvider } from './provider.js';

/** The SDK's error classes and validator, passed in so that this module never loads the SDK itself. */
export interface SdkBindings {
  readonly RateLimitExceededError: new (message: string) => Error;
  readonly AuthExpiredError: new (message: string) => Error;
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

export function sdkProvider(
  client: Pick<Client, 'secrets'> & Partial<Pick<Client, 'environments'>>,
  sdk: SdkBindings,
  options: { description: string; fix: string },
): SecretProvider {
  /** Runs an SDK call; whole-call errors become ProviderFailure (rate limit, expired auth, unreachable). */
  const failures = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof sdk.RateLimitExceededError) {
        throw new ProviderFailure('rate-limited', '1Password rate limit reached', undefined, { cause: error });
      }
      if (error instanceof sdk.AuthExpiredError || error instanceof sdk.DesktopSessionExpiredError) {
        throw new ProviderFailure('auth', '1Password sign-in expired', options.fix, { cause: error });
      }
      const message = typeof error === 'string' ? error : ((error as Error)?.message ?? String(error));
      throw new ProviderFailure('unavailable', `1Password could not be reached (${message.slice(0, 200)})`, undefined, {
        cause: error,
      });
    }
  };
  return {
    description: options.description,
    async resolveAll(references) {
      const out = new Map<string, Resolved>();
      if (references.length === 0) return out;
      const response = await failures(() => client.secrets.resolveAll([...references]));
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
      const { variables } = await failures(() => environments.getVariables(id));
      return variables.map((v) => ({ name: v.name, value: Buffer.from(v.value, 'utf8') }));
    },
    validate(reference) {
      try {
        sdk.validateSecretReference(reference);
        return undefined;
      } catch (error) {
        // The SDK throws a JSON string, not an Error.
        const text = typeof error === 'string' ? error : (error as Error)?.message;
        try {
          return (JSON.parse(String(text)) as { message?: string }).message ?? String(text);
        } catch {
          return String(text);
        }
      }
    },
  };
}
