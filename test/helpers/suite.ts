/** A test file's daemon: started before its tests with these values stored, stopped (and every process killed) after. */
import { afterAll, beforeAll, expect } from 'vitest';
import { killAll, TestDaemon } from './daemon.js';

export function daemonSuite(values: Readonly<Record<string, string>> = {}): () => TestDaemon {
  let daemon: TestDaemon | undefined;
  beforeAll(async () => {
    daemon = new TestDaemon();
    await daemon.start();
    for (const [name, value] of Object.entries(values)) {
      expect((await daemon.cli(['set', name], { input: value })).code).toBe(0);
    }
  });
  afterAll(async () => {
    await killAll();
    await daemon?.dispose();
  });
  return () => {
    if (!daemon) throw new Error('the daemon is started in beforeAll');
    return daemon;
  };
}
