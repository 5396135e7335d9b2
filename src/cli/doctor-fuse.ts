/**
 * `envmount doctor` for a mount of the FUSE backend (a regular file served by envmountd, mounted over an empty
 * placeholder) and the backend advice for every mount: FUSE for a FIFO mount that saw collisions. Never opens the
 * mount (that would be a read): lstat only, which the daemon answers without a decision.
 */
import { lstat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from '../core/errors.js';
import { fuseAdvice } from './format.js';

export interface Finding {
  readonly subject: string;
  readonly ok: boolean;
  readonly says: string;
  readonly fix?: string;
}

/** What doctor knows of a mount: from the daemon (backend, collisions) or from the registry when it is down. */
export type DoctorMount = {
  path: string;
  dir: string;
  allowSharedDir?: boolean;
  backend?: 'fifo' | 'fuse';
  collisions?: number;
};

const ok = (subject: string, says: string): Finding => ({ subject, ok: true, says });
const problem = (subject: string, says: string, fix: string): Finding => ({ subject, ok: false, says, fix });

/** FUSE advised for a FIFO mount whose readers collided on one pipe (the path's own finding names the backend:
 * "a pipe" or "a FUSE mount"). */
export function backendFindings(m: DoctorMount): Finding[] {
  const backend = m.backend ?? 'fifo';
  const collided = backend === 'fifo' && (m.collisions ?? 0) > 0;
  if (!collided) return [];
  return [
    problem(
      m.path,
      `backend fifo, and ${m.collisions} reads where several processes opened the file at once and shared one pipe (some got nothing or a refusal)`,
      fuseAdvice(m.dir),
    ),
  ];
}

/** What is at a FUSE mount's path: the live mount, a stale one (daemon killed), the placeholder, or a file. */
export async function fuseMountFindings(m: DoctorMount, up: boolean, uid: number): Promise<Finding[]> {
  let st: Awaited<ReturnType<typeof lstat>> | undefined;
  try {
    st = await lstat(m.path);
  } catch (error) {
    if (errnoCode(error) === 'ENOTCONN')
      return [
        problem(
          m.path,
          'a FUSE mount whose daemon is gone: readers get "Transport endpoint is not connected"',
          up ? `\`envmount add ${m.dir}\`` : '`envmountd start` mounts it again (or `envmountd cleanup` detaches it)',
        ),
      ];
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  if (!st)
    return [
      up
        ? problem(m.path, 'nothing is mounted there', `\`envmount add ${m.dir}\``)
        : problem(m.path, 'nothing is there (the daemon is down: it mounts it when it starts)', '`envmountd start`'),
    ];
  const dirDev = (await lstat(dirname(m.path)).catch(() => undefined))?.dev;
  if (st.isFile() && st.dev !== dirDev) {
    if (st.uid !== uid) return [problem(m.path, `a mount of uid ${st.uid}, not yours`, `\`umount ${m.path}\``)];
    return [ok(m.path, 'a FUSE mount, yours, mode 0600, served by envmountd')];
  }
  if (st.isFile() && st.size === 0)
    return [
      problem(
        m.path,
        'an empty placeholder, not mounted: a loader reads an empty .env',
        up ? `\`envmount add ${m.dir}\`` : '`envmountd start`',
      ),
    ];
  if (st.isFile())
    return [
      problem(
        m.path,
        'a regular file is there: whatever it holds is on disk in plaintext',
        `\`envmount import ${m.dir} --merge\` moves its values into the store; then \`envmount add ${m.dir} --backend fuse\``,
      ),
    ];
  return [problem(m.path, 'something other than a file is there', `move it away, then \`envmount add ${m.dir}\``)];
}
