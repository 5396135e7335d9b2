/**
 * Dispatch of control requests: validates parameters against the protocol's schemas and calls the owner of each
 * piece of state. Replies carry names and states, never values.
 */
import { z } from 'zod';
import { type DaemonStatus, type Method, type Params, paramSchemas, type Results } from '../control/protocol.js';
import type { Handler } from '../control/server.js';
import { EnvmountError } from '../core/errors.js';
import { storeNameProblem } from '../core/reference.js';
import type { EmbeddedStore } from '../secrets/store.js';
import { importDotenv } from './import.js';
import type { MountService } from './mounts.js';

export interface HandlerDeps {
  readonly mounts: MountService;
  readonly store: EmbeddedStore;
  readonly daemonStatus: () => DaemonStatus;
}

type Implementations = { [M in Method]: (params: Params<M>) => Promise<Results[M]> | Results[M] };

function checkName(name: string): void {
  const problem = storeNameProblem(name);
  if (problem) throw new EnvmountError('USAGE', `Cannot use ${problem}.`);
}

export function createHandler(deps: HandlerDeps): Handler {
  const { mounts, store } = deps;
  const methods: Implementations = {
    ping: () => {
      const { pid, version } = deps.daemonStatus();
      return { pid, version, protocol: 1 };
    },
    add: (p) => mounts.add(p.dir, p.path),
    remove: (p) => mounts.remove(p.path),
    list: () => mounts.list(),
    status: async () => ({ daemon: deps.daemonStatus(), mounts: await mounts.status() }),
    set: async (p) => {
      checkName(p.name);
      const value = Buffer.from(p.valueBase64, 'base64');
      const created = !store.has(p.name);
      try {
        await store.setMany([{ name: p.name, value }]);
      } finally {
        value.fill(0);
      }
      return { name: p.name, created, mounts: mounts.refreshAll(p.name) };
    },
    unset: async (p) => {
      checkName(p.name);
      const removed = await store.unset(p.name);
      if (removed) mounts.refreshAll();
      return { name: p.name, removed };
    },
    vars: () => ({ names: store.names() }),
    import: (p) => importDotenv(p.dir, p.prefix, { store, mounts }),
  };
  return async (method, params) => {
    if (!Object.hasOwn(paramSchemas, method)) {
      throw new EnvmountError('BAD_REQUEST', `Unknown method "${method}". Is the CLI newer than the daemon?`);
    }
    const name = method as Method;
    const parsed = paramSchemas[name].safeParse(params);
    if (!parsed.success) {
      throw new EnvmountError('BAD_REQUEST', `Bad parameters for ${name}: ${z.prettifyError(parsed.error)}`);
    }
    const implementation = methods[name] as (p: unknown) => Promise<unknown> | unknown;
    return implementation(parsed.data);
  };
}
