/**
 * Inline code that reads as a script (THREAT-MODEL.md, "Interpreter identity names intent, not code"). Before: the
 * script of an interpreter was its first argument not starting with `-`, so `node -pe CODE` (an agent's everyday
 * one-liner), `python3 -Ic CODE` and `perl -le CODE` were "node /dir/CODE", a script file, and
 * `node --disable-warning /app/server.js -e CODE` was "node /app/server.js": a `script:` rule served them, also to a reader
 * started by an agent under `--agents ask`. Now option clusters and node's options that take a value are read as
 * the interpreter reads them: all of these are inline code, asked about, never matched by a `script:` rule.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, startReader, TestDaemon, waitFor } from '../helpers/daemon.js';

let daemon: TestDaemon;
const READ_JS = "process.stdout.write(require('fs').readFileSync('.env', 'utf8'))";

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start({ ENVMOUNT_APPROVAL_TIMEOUT_MS: '600000' });
  await daemon.cli(['set', 'TOKEN'], { input: 'tok-value' });
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

interface Pending {
  id: number;
  mount: string;
  identity: string;
}

/** Runs the reader; when it waits for approval, denies it. Returns what it read and the identity it was asked as. */
async function readAs(dir: string, command: string, args: string[]): Promise<{ out: string; asked?: string }> {
  const reader = startReader(command, args, { cwd: dir });
  let finished = false;
  void reader.done.then(() => {
    finished = true;
  });
  const pending = await waitFor(async () => {
    if (finished) return { none: true as const };
    const list = JSON.parse((await daemon.cli(['--json', 'approvals'])).stdout) as Pending[];
    return list.find((p) => p.mount === join(dir, '.env'));
  });
  if ('none' in pending) return { out: await reader.done };
  await daemon.cli(['deny', String(pending.id)]);
  return { out: await reader.done, asked: pending.identity };
}

describe('inline code disguised as a script', () => {
  it('is asked about under a script: rule, agent or not, and never served unasked', async () => {
    const dir = daemon.project('disguise', 'TOKEN=envmount://TOKEN\n');
    const server = join(dir, 'server.js');
    writeFileSync(server, `${READ_JS};\n`);
    const added = await daemon.cli(['add', dir, '--allow', `script:${server}`, '--allow', `script:${dir}/*`]);
    expect(added.stderr).toBe('');
    const node = process.execPath;
    const cases: Array<[string, string[]]> = [
      [node, ['-pe', "require('fs').readFileSync('.env', 'utf8')"]],
      [node, ['--disable-warning', server, '-e', READ_JS]],
      [node, ['--inspect-port', '0', '-pe', "require('fs').readFileSync('.env', 'utf8')"]],
      ['python3', ['-Ic', "import sys; sys.stdout.write(open('.env').read())"]],
      ['python3', ["-cimport sys; sys.stdout.write(open('.env').read())"]],
      ['perl', ['-le', 'open(F, ".env"); print <F>;']],
      ['bash', ['-c', `exec -a claude ${node} -pe "require('fs').readFileSync('.env', 'utf8')"`]],
    ];
    for (const [command, args] of cases) {
      const { out, asked } = await readAs(dir, command, args);
      expect({ args, out }).not.toMatchObject({ out: expect.stringContaining('tok-value') });
      expect({ args, asked }).toMatchObject({ asked: expect.stringContaining('(inline code') });
    }
    // The app itself is still its script.
    const { out } = await readAs(dir, node, ['server.js']);
    expect(out).toBe("TOKEN='tok-value'\n");
  });
});
