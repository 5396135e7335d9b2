/**
 * Live test against real 1Password: runs only when OP_SERVICE_ACCOUNT_TOKEN and ENVMOUNT_TEST_OP_REF are set (this
 * project's CI cannot reach 1Password, so there it is reported as skipped, with the reason in its name).
 */
import { describe, expect, it } from 'vitest';
import { createSdkProvider } from '../../src/secrets/sdk-client.js';

const token = process.env.OP_SERVICE_ACCOUNT_TOKEN;
const reference = process.env.ENVMOUNT_TEST_OP_REF;
const live = Boolean(token && reference);

describe.skipIf(!live)(
  'live 1Password (skipped unless OP_SERVICE_ACCOUNT_TOKEN and ENVMOUNT_TEST_OP_REF are set)',
  () => {
    it('resolves ENVMOUNT_TEST_OP_REF with the service account, in one resolveAll', async () => {
      const sdk = await import('@1password/sdk');
      const provider = createSdkProvider({ token: token ?? '' }, 'test', sdk);
      expect(provider.validate(reference ?? '')).toBeUndefined();
      const resolved = await provider.resolveAll([reference ?? '']);
      const result = resolved.get(reference ?? '');
      expect(result && 'value' in result && result.value.length > 0).toBe(true);
      if (result && 'value' in result) result.value.fill(0);
    });
  },
);
