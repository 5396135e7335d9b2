/** Wiring of the 1Password sources: the SDK (loaded only when used) or the op CLI. */

import type { Config } from '../config/config.js';
import type { ProviderFactory } from '../secrets/onepassword.js';
import { opCliProvider } from '../secrets/op-cli-provider.js';
import { createSdkProvider } from '../secrets/sdk-client.js';
import { noNewPrivileges } from './privileges.js';

export function providerFactory(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  version: string,
): ProviderFactory {
  return async (spec) => {
    if (spec.kind === 'op-cli') {
      return opCliProvider({
        opPath: config.opPath,
        env,
        timeoutMs: 120_000,
        noNewPrivileges: await noNewPrivileges(),
      });
    }
    const sdk = await import('@1password/sdk');
    return createSdkProvider(spec.kind === 'token' ? { token: spec.token } : { account: spec.account }, version, sdk);
  };
}
