/**
 * Builds the SDK provider on the real `@1password/sdk`, loaded only when 1Password is configured (it carries a
 * 14 MB WebAssembly core). The client is created on first use and again after a failure, so a daemon that starts
 * offline, or with an expired token, reports the state and recovers on the next refresh.
 */
import { ProviderFailure, type SecretProvider } from './provider.js';
import { sdkProvider } from './sdk-provider.js';

export type SdkAuth = { readonly token: string } | { readonly account: string };

type Sdk = typeof import('@1password/sdk');

export function createSdkProvider(auth: SdkAuth, version: string, sdk: Sdk): SecretProvider {
  const desktop = 'account' in auth;
  const description = desktop
    ? `1Password SDK (desktop app, account ${auth.account})`
    : '1Password SDK (service account)';
  const fix = desktop
    ? 'unlock the 1Password app, then run `envmount refresh`'
    : 'store a new token with `envmount login --service-account`';
  let inner: SecretProvider | undefined;
  const bindings = {
    RateLimitExceededError: sdk.RateLimitExceededError,
    AuthExpiredError: sdk.AuthExpiredError,
    DesktopSessionExpiredError: sdk.DesktopSessionExpiredError,
    validateSecretReference: (reference: string) => sdk.Secrets.validateSecretReference(reference),
  };
  const validator = sdkProvider(
    { secrets: { resolve: async () => '', resolveAll: async () => ({ individualResponses: {} }) } },
    bindings,
    {
      description,
      fix,
    },
  );
  const connect = async (): Promise<SecretProvider> => {
    if (inner) return inner;
    try {
      const client = await sdk.createClient({
        auth: desktop ? new sdk.DesktopAuth(auth.account) : auth.token,
        integrationName: 'envmount',
        integrationVersion: version,
      });
      inner = sdkProvider(client, bindings, { description, fix });
      return inner;
    } catch (error) {
      const raw = typeof error === 'string' ? error : ((error as Error)?.message ?? String(error));
      // Never echo a token back, whatever the SDK put in its message.
      const message = 'token' in auth && auth.token ? raw.split(auth.token).join('[token]') : raw;
      throw new ProviderFailure('auth', `1Password sign-in failed (${message.slice(0, 200)})`, fix, { cause: error });
    }
  };
  return {
    description,
    resolveAll: async (references) => (references.length === 0 ? new Map() : (await connect()).resolveAll(references)),
    environmentVariables: async (id) => {
      const provider = await connect();
      if (!provider.environmentVariables) throw new ProviderFailure('unavailable', 'Environments are not available');
      return provider.environmentVariables(id);
    },
    validate: (reference) => validator.validate(reference),
  };
}
