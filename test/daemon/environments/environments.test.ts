/** A mount that serves a 1Password Environment (`envmount add --environment ID`), through the real daemon code. */
import { join } from 'node:path';
import { type Client, DesktopSessionExpiredError, RateLimitExceededError } from '@1password/sdk';
import { afterAll, expect, it } from 'vitest';
import { sdkProvider } from '../../../src/secrets/sdk-provider.js';
import { killAll, run, TestDaemon } from '../../helpers/daemon.js';
import { startInProcess } from '../../helpers/in-process.js';

const dirs: TestDaemon[] = [];
afterAll(async () => {
  await killAll();
  for (const d of dirs) await d.dispose();
});

const fakeClient: Pick<Client, 'secrets' | 'environments'> = {
  secrets: { resolve: async () => '', resolveAll: async () => ({ individualResponses: {} }) },
  environments: {
    getVariables: async (id: string) => ({
      variables: [
        { name: 'DATABASE_URL', value: `postgres://${id}@db/app`, masked: true },
        { name: 'FEATURE_FLAG', value: 'on', masked: false },
      ],
    }),
  },
};

it('serves the variables of an Environment to a real reader, and lists their names in status', async () => {
  const d = new TestDaemon();
  dirs.push(d);
  const { daemon, client } = await startInProcess(d, {
    providerFactory: async () =>
      sdkProvider(
        fakeClient,
        {
          RateLimitExceededError,
          DesktopSessionExpiredError,
          validateSecretReference: () => undefined,
        },
        { description: 'fake SDK', fix: 'n/a' },
      ),
    serviceAccountToken: 'unused-by-the-fake',
  });
  try {
    const dir = d.project('env-app');
    const status = await client.request('add', { dir, environment: 'prod123', allow: ['any'] });
    expect(status.variables).toEqual(['DATABASE_URL', 'FEATURE_FLAG']);
    expect(status.template).toBe('1Password Environment prod123');
    const read = await run('cat', [join(dir, '.env')]);
    expect(read.stdout).toBe("DATABASE_URL='postgres://prod123@db/app'\nFEATURE_FLAG='on'\n");
  } finally {
    client.close();
    await daemon.stop();
  }
});
