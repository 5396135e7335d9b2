import { describe, expect, it } from 'vitest';
import { backendFindings } from '../../src/cli/doctor-fuse.js';

describe('doctor: the backend advice', () => {
  it('recommends FUSE for a FIFO mount that saw collisions, and nothing otherwise', () => {
    const m = { path: '/p/.env', dir: '/p' };
    expect(backendFindings({ ...m, collisions: 0 })).toEqual([]);
    expect(backendFindings({ ...m, backend: 'fuse', collisions: 3 })).toEqual([]);
    const [finding] = backendFindings({ ...m, backend: 'fifo', collisions: 3 });
    expect(finding).toMatchObject({ ok: false, subject: '/p/.env' });
    expect(finding?.says).toContain('3 reads where several processes opened the file at once');
    expect(finding?.fix).toContain('envmount add /p --backend fuse');
  });
});
