/** Wiring of the 1Password sources: the SDK (loaded only when used) or the op CLI. */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.js';
import type { ProviderFactory } from '../secrets/onepassword.js';
import { opCliProvider } from '../secrets/op-cli-provider.js';
import { createSdkProvider } from '../secrets/sdk-client.js';

/** Whether this process runs with no_new_privs (systemd's NoNewPrivileges=yes); every op it starts inherits it. */
function noNewPrivileges(): boolean {
  try {
    return readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .some((line) => line.startsWith('NoNewPrivs:') && line.slice('NoNewPrivs:'.length).trim() === '1');
  } catch {
    return false;
  }
}

export function providerFactory(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  version: string,
): ProviderFactory {
  return async (spec) => {
    if (spec.kind === 'op-cli') {
      return opCliProvider({ opPath: config.opPath, env, timeoutMs: 120_000, noNewPrivileges: noNewPrivileges() });
    }
    const sdk = await import('@1password/sdk');
    return createSdkProvider(spec.kind === 'token' ? { token: spec.token } : { account: spec.account }, version, sdk);
  };
}
