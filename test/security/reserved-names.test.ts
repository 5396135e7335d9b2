/**
 * Issue 14, class 3: `envmount://_envmount/op-service-account-token` (envmount's own store names) must be
 * unreachable from templates, `run`, environments and MCP's control methods, whatever asks: refused at `add`,
 * never served after a template edit, refused by `run --env-file` and by an environment append.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlClient } from '../../src/control/client.js';
import { EnvmountError } from '../../src/core/errors.js';
import { killAll, run, TestDaemon, waitFor, writeTemplate } from '../helpers/daemon.js';

const TOKEN = `ops_reserved_${randomBytes(16).toString('hex')}`;
const REF = 'envmount://_envmount/op-service-account-token';

let daemon: TestDaemon;
let client: ControlClient;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  const login = await daemon.cli(['login', '--service-account'], { input: `${TOKEN}\n` });
  expect(login.code, login.stderr).toBe(0);
  expect((await daemon.cli(['set', 'PLAIN'], { input: 'plain-value' })).code).toBe(0);
  client = await daemon.client();
});

afterAll(async () => {
  client?.close();
  await killAll();
  await daemon?.dispose();
});

async function refusal(promise: Promise<unknown>): Promise<EnvmountError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EnvmountError);
  return error as EnvmountError;
}

describe('envmount://_envmount/...', () => {
  it('is refused at add, with the reference and why, and no mount is made', async () => {
    for (const [name, line] of [
      ['whole', `T=${REF}\n`],
      ['embedded', `T="x{{ ${REF} }}"\n`],
      ['case', 'T=envmount://_ENVMOUNT/op-service-account-token\n'],
    ] as const) {
      const dir = daemon.project(name, `PLAIN=envmount://PLAIN\n${line}`);
      const result = await daemon.cli(['add', dir, '--allow', 'any']);
      expect(result.code, name).not.toBe(0);
      expect(result.stderr).toContain("are envmount's own");
      expect(result.stderr).toContain(`${join(dir, '.env.op')}:2:`);
      expect(existsSync(join(dir, '.env')), name).toBe(false);
      expect(result.stdout + result.stderr).not.toContain(TOKEN);
    }
  });

  it('put in a template after add is never served: the mount reports the template error', async () => {
    const dir = daemon.project('edited', 'PLAIN=envmount://PLAIN\n');
    expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
    expect((await run('cat', [join(dir, '.env')])).stdout).toBe("PLAIN='plain-value'\n");
    writeTemplate(dir, `PLAIN=envmount://PLAIN\nT=${REF}\n`);
    const status = await waitFor(async () => {
      const all = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
      const mount = all.mounts.find((m: { dir: string }) => m.dir === dir);
      return mount.state === 'error' ? mount : undefined;
    });
    expect(status.reason).toContain("are envmount's own");
    const served = await run('cat', [join(dir, '.env')]);
    expect(served.stdout).not.toContain(TOKEN);
    expect(served.stdout).toContain('template has an error');
  });

  it('is refused by run --env-file, which never starts the command', async () => {
    const dir = daemon.project('run');
    const file = join(dir, 'run.env.op');
    writeFileSync(file, `T=${REF}\n`);
    const marker = join(dir, 'started');
    const result = await daemon.cli(['run', '--env-file', file, '--', 'sh', '-c', `touch ${marker}; echo "$T"`], {
      cwd: dir,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("are envmount's own");
    expect(result.stdout).not.toContain(TOKEN);
    expect(existsSync(marker)).toBe(false);
  });

  it('is refused in an environment (what MCP append_variables sends), and _envmount is no environment name', async () => {
    await client.request('environmentCreate', { name: 'agent-env' });
    const error = await refusal(
      client.request('environmentAppend', { name: 'agent-env', variables: [{ name: 'T', reference: REF }] }),
    );
    expect(error.code).toBe('REFERENCE_INVALID');
    expect(error.message).toContain("are envmount's own");
    const variables = await client.request('environmentVariables', { name: 'agent-env' });
    expect(variables.variables.map((v) => v.name)).not.toContain('T');
    // Its values would be stored as _envmount/NAME: inside envmount's own names.
    const named = await refusal(client.request('environmentCreate', { name: '_envmount' }));
    expect(named.code).toBe('USAGE');
  });

  it('the token is still what 1Password uses, and nothing above wrote it anywhere', async () => {
    const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
    expect(status.daemon.onePassword.provider).toBe('1Password SDK (service account)');
    expect(readFileSync(join(daemon.dirs.state, 'envmount', 'audit.log'), 'utf8')).not.toContain(TOKEN);
    expect(daemon.log).not.toContain(TOKEN);
  });
});
