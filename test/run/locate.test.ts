/** Finding the command as a shell does: PATH order, slashes, and the two ways it fails (127 and 126 upstream). */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { locateCommand } from '../../src/run/locate.js';

const root = mkdtempSync('/tmp/emt-locate-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function script(dir: string, name: string, mode: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, mode);
  return path;
}

describe('locateCommand', () => {
  it('takes the first executable on PATH, skipping a non-executable one', async () => {
    script(join(root, 'a'), 'tool', 0o644);
    const second = script(join(root, 'b'), 'tool', 0o755);
    script(join(root, 'c'), 'tool', 0o755);
    const path = [join(root, 'a'), join(root, 'b'), join(root, 'c')].join(':');
    expect(await locateCommand('tool', '/', path)).toBe(second);
  });

  it('resolves a relative path against the working directory', async () => {
    const path = script(join(root, 'rel'), 'run.sh', 0o755);
    expect(await locateCommand('./run.sh', join(root, 'rel'), '')).toBe(path);
  });

  it('fails with COMMAND_NOT_FOUND or NOT_EXECUTABLE, naming the command', async () => {
    await expect(locateCommand('nope-xyz', '/', join(root, 'a'))).rejects.toMatchObject({
      code: 'COMMAND_NOT_FOUND',
      message: expect.stringContaining('"nope-xyz": no such command on PATH'),
    });
    await expect(locateCommand('tool', '/', join(root, 'a'))).rejects.toMatchObject({ code: 'NOT_EXECUTABLE' });
    await expect(locateCommand(root, '/', '')).rejects.toMatchObject({ code: 'NOT_EXECUTABLE' });
    await expect(locateCommand('./missing', root, '')).rejects.toMatchObject({ code: 'COMMAND_NOT_FOUND' });
  });
});
