/**
 * Issue 14, class 10: `add` on a directory the daemon cannot read says EACCES, the directory and the fix (not
 * INTERNAL); invalid base64 in a value is refused, never stored as other bytes; a wrong protocol version names
 * both versions as they are. The daemon runs as `nobody` when the suite runs as root (root reads anything).
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, run, TestDaemon } from '../helpers/daemon.js';
import { installReachableBy, OTHER_USER } from '../helpers/other-user.js';

const user = OTHER_USER;

const install = installReachableBy(user);

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = new TestDaemon({ ...(user ? { user } : {}), install: install.path });
  await daemon.start();
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
  install.unbind();
});

interface Reply {
  ok: boolean;
  result?: { names?: string[] };
  error?: { code: string; message: string };
}

/**
 * Sends raw request lines, one at a time, as the daemon's user (it answers no other uid); resolves with the
 * replies. `request` builds a well-formed line.
 */
async function raw(...lines: string[]): Promise<Reply[]> {
  const script = `const net = require('net'); const lines = ${JSON.stringify(lines)}; const out = [];
    const socket = net.createConnection(${JSON.stringify(daemon.socketPath)}); let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => { data += chunk; let nl;
      while ((nl = data.indexOf('\\n')) !== -1) { out.push(JSON.parse(data.slice(0, nl))); data = data.slice(nl + 1);
        if (out.length === lines.length) { socket.end(); process.stdout.write(JSON.stringify(out)); }
        else socket.write(lines[out.length] + '\\n'); } });
    socket.write(lines[0] + '\\n');`;
  const result = await run(process.execPath, ['-e', script], { ...user, env: { PATH: process.env.PATH } });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as Reply[];
}
const request = (method: string, params: object) => JSON.stringify({ v: 1, id: 1, method, params });

describe('add where the daemon may not look', () => {
  it('a directory it cannot read: FORBIDDEN with EACCES, the directory and the fix', async () => {
    const dir = daemon.project('closed', 'A=envmount://A\n');
    chmodSync(dir, 0o000);
    try {
      const result = await daemon.cli(['add', dir, '--allow', 'any']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).not.toContain('INTERNAL');
      expect(result.stderr).not.toContain('see its log');
      expect(result.stderr).toContain(`cannot read the directory "${dir}" (EACCES`);
      expect(result.stderr).toContain('chmod u+rx');
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it('a template it cannot read: named, with EACCES (main words it in src/io/client-file.ts)', async () => {
    const dir = daemon.project('closed-template', 'A=envmount://A\n');
    chmodSync(join(dir, '.env.op'), 0o000);
    const result = await daemon.cli(['add', dir, '--allow', 'any']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(join(dir, '.env.op'));
    expect(result.stderr).toContain('EACCES');
  });
});

describe('invalid base64 is refused, not stored', () => {
  it('set refuses each bad form, and stores none of them', async () => {
    for (const bad of ['not base64!', 'YWJj ZGVm', 'YWJjZA', 'YQ==YQ==', 'YWJj\n']) {
      const [reply, vars] = await raw(request('set', { name: 'B64', valueBase64: bad }), request('vars', {}));
      expect(reply?.error?.code, JSON.stringify(bad)).toBe('BAD_REQUEST');
      expect(reply?.error?.message).toContain('valueBase64');
      expect(reply?.error?.message).toContain('not valid base64');
      expect(vars?.result?.names).not.toContain('B64');
    }
  });

  it('valid base64 is stored; an environment append and login check it too', async () => {
    const [set, vars, created, append, login] = await raw(
      request('set', { name: 'B64', valueBase64: Buffer.from('abcd').toString('base64') }),
      request('vars', {}),
      request('environmentCreate', { name: 'b64-env' }),
      request('environmentAppend', { name: 'b64-env', variables: [{ name: 'X', valueBase64: '%%%%' }] }),
      request('login', { serviceAccountTokenBase64: 'ops_not base64' }),
    );
    expect(set?.ok).toBe(true);
    expect(vars?.result?.names).toContain('B64');
    expect(created?.ok).toBe(true);
    expect(append?.error?.code).toBe('BAD_REQUEST');
    expect(login?.error?.code).toBe('BAD_REQUEST');
  });
});

describe('a wrong protocol version', () => {
  it('names the daemon version and what the client sent', async () => {
    const ping = (v: string) => `{"v":${v},"id":1,"method":"ping","params":{}}`;
    const [asString, two, none, right] = await raw(ping('"1"'), ping('2'), '{"id":1,"method":"ping"}', ping('1'));
    expect(asString?.error?.code).toBe('PROTOCOL_MISMATCH');
    expect(asString?.error?.message).toContain('This daemon speaks protocol 1; the client sent "1"');
    expect(asString?.error?.message).toContain('not a number');
    expect(two?.error?.message).toContain('speaks protocol 1; the client sent protocol 2');
    expect(none?.error?.message).toContain('no protocol version');
    expect(right?.ok).toBe(true);
  });
});
