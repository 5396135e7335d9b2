/**
 * Builds the SDK provider on the real `@1password/sdk`, loaded only when 1Password is configured (it carries a
 * 14 MB WebAssembly core). The client is created on first use and again after an auth failure, so a daemon that
 * starts offline, or with an expired token, reports the state and recovers on a later refresh. createClient's
 * errors are classified like every other (onepassword-errors.ts): offline, rate limit, server error, bad token.
 */
import { existsSync } from 'node:fs';
import { ProviderFailure, type SecretProvider } from './provider.js';
import { classifySdkError, type SdkBindings, sdkProvider, withDeadline } from './sdk-provider.js';

export type SdkAuth = { readonly token: string } | { readonly account: string };

type Sdk = typeof import('@1password/sdk');

/**
 * Where the SDK 0.5.0 looks for the desktop app's IPC library (dist/shared_lib_core.js). When none is there it
 * prints an 11-line stack to stderr on every createClient and then fails "Native library is not available.", so
 * envmount looks first and says what is missing.
 */
export const DESKTOP_LIBRARIES: Readonly<Record<string, readonly string[]>> = {
  linux: [
    '/usr/bin/1password/libop_sdk_ipc_client.so',
    '/opt/1Password/libop_sdk_ipc_client.so',
    '/snap/bin/1password/libop_sdk_ipc_client.so',
  ],
  darwin: ['/Applications/1Password.app/Contents/Frameworks/libop_sdk_ipc_client.dylib'],
};

export function desktopAppInstalled(platform: string = process.platform): boolean {
  const paths = DESKTOP_LIBRARIES[platform];
  return paths === undefined || paths.some((path) => existsSync(path));
}

/** The SDK accepts an integration version of at most 20 characters, without `+` or `!` (seen from its core). */
export function integrationVersion(version: string): string {
  const plain = version.split('+')[0] ?? version;
  return (
    [...plain]
      .filter((ch) => /[A-Za-z0-9._-]/.test(ch))
      .join('')
      .slice(0, 20) || 'unknown'
  );
}

export interface SdkClientOptions {
  /** Deadline of createClient and of each call (the SDK has none). */
  readonly timeoutMs?: number;
  /** Whether the desktop app's library is installed (tests replace it). */
  readonly desktopAppInstalled?: () => boolean;
}

export function createSdkProvider(
  auth: SdkAuth,
  version: string,
  sdk: Sdk,
  options: SdkClientOptions = {},
): SecretProvider {
  const desktop = 'account' in auth;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const description = desktop
    ? `1Password SDK (desktop app, account ${auth.account})`
    : '1Password SDK (service account)';
  const fix = desktop
    ? 'unlock the 1Password app, then run `envmount refresh`'
    : 'store a new token with `envmount login --service-account`';
  const secret = 'token' in auth ? auth.token : undefined;
  let inner: SecretProvider | undefined;
  const bindings: SdkBindings = {
    RateLimitExceededError: sdk.RateLimitExceededError,
    DesktopSessionExpiredError: sdk.DesktopSessionExpiredError,
    validateSecretReference: (reference: string) => sdk.Secrets.validateSecretReference(reference),
  };
  const noClient = { secrets: { resolve: async () => '', resolveAll: async () => ({ individualResponses: {} }) } };
  const validator = sdkProvider(noClient, bindings, { description, fix, timeoutMs });
  const connect = async (): Promise<SecretProvider> => {
    if (inner) return inner;
    if (desktop && !(options.desktopAppInstalled ?? desktopAppInstalled)()) {
      throw new ProviderFailure(
        'unavailable',
        'the 1Password desktop app is not installed here (the SDK finds no libop_sdk_ipc_client)',
        'install and unlock the 1Password app, or use `envmount login --service-account`',
      );
    }
    try {
      const client = await withDeadline(
        () =>
          sdk.createClient({
            auth: desktop ? new sdk.DesktopAuth(auth.account) : auth.token,
            integrationName: 'envmount',
            integrationVersion: integrationVersion(version),
          }),
        timeoutMs,
        '1Password sign-in',
      );
      const onAuthFailure = () => {
        inner = undefined;
      };
      inner = sdkProvider(client, bindings, { description, fix, timeoutMs, onAuthFailure });
      return inner;
    } catch (error) {
      const failure = classifySdkError(error, bindings, fix, secret);
      throw failure instanceof ProviderFailure
        ? failure
        : new ProviderFailure('unavailable', `1Password sign-in failed: ${failure.problem}`, fix);
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
