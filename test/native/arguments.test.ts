/**
 * The native boundary under misuse: every call with arguments of the wrong kind throws (thousands of calls, the
 * process survives), a ticket is never taken for a mount handle nor the other way round, and a ticket finished
 * twice or after its mount stopped is refused or finished once. The sanitizer tier runs this file under ASan.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as native from '../../src/native/index.js';
import { killAll, startReader } from '../helpers/daemon.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-args-');
});
afterEach(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A deciding mount and the first reader's ticket (a `cat` waiting for it). */
async function mountWithTicket(name: string) {
  const path = join(dir, name);
  native.mkfifo(path, 0o600);
  const events: native.MountEvent[] = [];
  let onReader: (ticket: native.Ticket) => void = () => undefined;
  const ticket = new Promise<native.Ticket>((resolve) => {
    onReader = resolve;
  });
  const stopped = new Promise<void>((resolve) => {
    const handle = native.startMount(
      path,
      `${path}.tmp`,
      2000,
      (event) => {
        events.push(event);
        if (event.ticket) onReader(event.ticket);
        if (event.type === 'stopped') resolve();
      },
      Buffer.from('A=1\n'),
      true,
    );
    handles.set(name, handle);
  });
  const reader = startReader('cat', [path]);
  return { handle: handles.get(name) as native.MountHandle, ticket: await ticket, reader, stopped, events };
}
const handles = new Map<string, native.MountHandle>();

const BAD = [undefined, null, 0, -1, 1.5, 2 ** 40, '', 'x', '\0', {}, [], () => 0, Symbol('s'), 10n, Buffer.alloc(4)];

describe('the native boundary', () => {
  it('throws on arguments of the wrong kind, thousands of times, and keeps working', async () => {
    const { handle, ticket, reader } = await mountWithTicket('m');
    const raw = native as unknown as Record<string, (...args: unknown[]) => unknown>;
    const calls: [string, (bad: unknown) => unknown[]][] = [
      ['mkfifo', (bad) => [bad, bad]],
      ['peerCredentials', (bad) => [bad]],
      ['scrubEnvironment', (bad) => [bad]],
      ['startMount', (bad) => [bad, bad, bad, bad, bad, bad]],
      ['startMount', (bad) => [join(dir, 'x'), join(dir, 'x.tmp'), bad, () => 0, Buffer.alloc(0), false]],
      ['startMount', (bad) => [join(dir, 'x'), join(dir, 'x.tmp'), 100, bad, Buffer.alloc(0), false]],
      ['setMountContent', (bad) => [bad, Buffer.alloc(1)]],
      ['setMountContent', (bad) => [handle, bad]],
      ['stopMount', (bad) => [bad]],
      ['setMountDecide', (bad) => [bad, true]],
      ['setMountDecide', (bad) => [handle, bad]],
      ['lookAtMounts', (bad) => [bad]],
      ['lookAtMounts', (bad) => [[handle, bad]]],
      ['mountInode', (bad) => [bad]],
      ['mountLocked', (bad) => [bad]],
      ['finishTicket', (bad) => [bad, Buffer.alloc(0), 1]],
      ['finishTicket', (bad) => [ticket, null, bad]],
      ['finishTicket', (bad) => [ticket, Buffer.isBuffer(bad) ? null : bad, 1]], // a Buffer would finish it
      ['fifoHolders', (bad) => [bad]],
      ['ticketHolders', (bad) => [bad]],
      // Externals of the other kind: a ticket is no mount handle, a mount handle no ticket.
      ['stopMount', () => [ticket]],
      ['mountInode', () => [ticket]],
      ['setMountContent', () => [ticket, Buffer.alloc(1)]],
      ['finishTicket', () => [handle, Buffer.alloc(0), 1]],
      ['ticketHolders', () => [handle]],
    ];
    const present = calls.filter(([name]) => typeof raw[name] === 'function');
    expect(present.length).toBeGreaterThan(15);
    let thrown = 0;
    for (let round = 0; round < 10; round++) {
      for (const [name, args] of present) {
        for (const bad of BAD) {
          // Wrong kinds that happen to be acceptable (a number where a number goes) may succeed; none may crash.
          try {
            raw[name]?.(...args(bad));
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
            thrown++;
          }
        }
      }
    }
    expect(thrown).toBeGreaterThan(3000);
    // The mount and its ticket still work: the reader gets what the ticket is finished with.
    expect(native.mountInode(handle)).toBeGreaterThan(0);
    expect(native.finishTicket(ticket, Buffer.from('A=1\n'), 1)).toMatchObject({ bytes: 4, pending: false });
    expect(await reader.done).toBe('A=1\n');
    native.stopMount(handle);
  });

  it('a ticket finished twice is refused the second time; one finished after its mount stopped still serves', async () => {
    const first = await mountWithTicket('twice');
    expect(native.finishTicket(first.ticket, Buffer.from('A=1\n'), 1).bytes).toBe(4);
    expect(() => native.finishTicket(first.ticket, Buffer.from('A=2\n'), 1)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => native.ticketHolders(first.ticket)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(await first.reader.done).toBe('A=1\n');
    native.stopMount(first.handle);
    await first.stopped;

    const late = await mountWithTicket('late');
    native.stopMount(late.handle);
    native.stopMount(late.handle); // idempotent
    await late.stopped;
    expect(native.finishTicket(late.ticket, Buffer.from('A=1\n'), 1).bytes).toBe(4);
    expect(await late.reader.done).toBe('A=1\n');
  });
});
