/**
 * What `envmount approvals` and `envmount log` print about a reader whose command line carries terminal escapes and
 * line breaks: escaped, on one line, so that it cannot rewrite the confirmation a person reads before approving.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startReader, waitFor } from '../helpers/daemon.js';
import { daemonSuite } from '../helpers/suite.js';

const daemon = daemonSuite({ TOKEN: 'tok-value' });
const HOSTILE = 'x\x1b[2K\rcommand: npm run dev\ny';
const SHOWN = `$'x\\x1b[2K\\rcommand: npm run dev\\ny'`;

/** No raw escape or carriage return, and the forged "command:" only inside the real command line. */
function expectOneLine(text: string): void {
  expect(text).not.toContain('\x1b');
  expect(text).not.toContain('\r');
  expect(text.split('\n').filter((line) => line.includes('npm run dev'))).toHaveLength(1);
}

it('approvals and log show a hostile command line escaped, on one line', async () => {
  const dir = daemon().project('hostile', 'TOKEN=envmount://TOKEN\n');
  expect((await daemon().cli(['add', dir])).code).toBe(0);
  const env = join(dir, '.env');
  const reader = startReader('cat', [env, HOSTILE]);
  const listed = await waitFor(async () => {
    const text = (await daemon().cli(['approvals'])).stdout;
    return text.includes(env) ? text : undefined;
  });
  expect(listed).toContain(`command: cat ${env} ${SHOWN}`);
  expectOneLine(listed);
  const pending = JSON.parse((await daemon().cli(['--json', 'approvals'])).stdout) as { id: number }[];
  expect((await daemon().cli(['deny', String(pending[0]?.id)])).code).toBe(0);
  expect(await reader.done).not.toContain('tok-value');
  const logged = (await daemon().cli(['log', dir])).stdout;
  expect(logged).toContain(`(cat ${env} ${SHOWN})`);
  expectOneLine(logged);
});
