/**
 * Dispatch of control requests: validates parameters against the protocol's schemas and calls the owner of each
 * piece of state. Replies carry names and states, never values.
 */
import { z } from 'zod';
import type { Approval } from '../control/protocol.js';
import { type DaemonStatus, type Method, type Params, paramSchemas, type Results } from '../control/protocol.js';
import type { Handler, Peer } from '../control/server.js';
import { EnvmountError } from '../core/errors.js';
import { describeRule, type Rule } from '../core/policy.js';
import { parseRule } from '../core/policy-edit.js';
import { isReservedName, RESERVED_PREFIX, storeNameProblem } from '../core/reference.js';
import type { OnePassword } from '../secrets/onepassword.js';
import type { EmbeddedStore } from '../secrets/store.js';
import type { AgentRequests } from './agent-requests.js';
import type { environmentMethods } from './environments/environment-methods.js';
import type { ValueWaiters } from './environments/value-waiters.js';
import { importDotenv } from './import.js';
import type { MountService } from './mounts/mounts.js';
import type { Approvals } from './readers/approvals.js';
import type { AuditLog } from './readers/audit.js';
import { describeProcess, isSameProcess, registerAgentClient } from './readers/process-info.js';

export interface HandlerDeps {
  readonly mounts: MountService;
  readonly store: EmbeddedStore;
  readonly approvals: Approvals;
  readonly audit: AuditLog;
  readonly onePassword: OnePassword;
  readonly daemonStatus: () => DaemonStatus;
  /** Lock: wipe every value held in memory; unlock: read the store again (its key from disk). */
  readonly lock: () => void;
  readonly unlock: () => Promise<void>;
  /** `envmount run`: the values for the peer's child, if the policy allows the peer. */
  readonly run: (params: Params<'run'>, peer: Peer) => Promise<Results['run']>;
  /** Requests waiting for a store name to be set (request_variable). */
  readonly waiters: ValueWaiters;
  readonly environments: ReturnType<typeof environmentMethods>;
  /** What requests from `envmount mcp` may do (nothing that widens who can read what). */
  readonly agent: AgentRequests;
}

type Implementations = { [M in Method]: (params: Params<M>, peer: Peer) => Promise<Results[M]> | Results[M] };

/** Approving must come from a person: the requesting process needs a controlling terminal. */
function requireTerminal(peer: Peer, what: string): void {
  const info = describeProcess(peer.pid);
  if (!info || info.tty === 0) {
    throw new EnvmountError(
      'FORBIDDEN',
      `${what} must be run by a person in a terminal; this request came from a process without one (pid ${peer.pid}). Ask the user to run it.`,
    );
  }
}

/**
 * Before a read is approved: the reader must still be the process that asked (else it is refused, and nothing is
 * approved), `--always` stores the narrowest rule naming it (never a bare interpreter or shell), and inline code is
 * approvable for this read only. Returns the rule `--always` stores.
 */
function checkApproval(p: Params<'approve'>, request: Approval, approvals: Approvals): Rule | undefined {
  const reader = approvals.reader(p.id);
  if (reader && !isSameProcess(reader)) {
    approvals.dropExited(p.id);
    throw new EnvmountError(
      'NOT_FOUND',
      `Request ${p.id}: ${request.identity ?? request.exe} (pid ${request.pid}) has exited; nothing was approved. Approve its next read when it asks again.`,
    );
  }
  const always = request.always;
  if ((p.always || p.forMs !== undefined) && always && 'problem' in always) {
    const how = p.always ? '--always' : '--for';
    if (p.always || always.problem.startsWith('its program is inline')) {
      throw new EnvmountError(
        'USAGE',
        `Cannot approve ${request.identity ?? request.exe} with ${how}: ${always.problem}. Approve this read only: \`envmount approve ${p.id}\`.`,
      );
    }
  }
  return p.always && always && 'rule' in always ? parseRule(always.rule, 'allow') : undefined;
}

function noPending(id: number): EnvmountError {
  return new EnvmountError(
    'NOT_FOUND',
    `No pending request ${id}: it was answered or timed out. See \`envmount approvals\`.`,
  );
}

function checkName(name: string): void {
  const problem = storeNameProblem(name);
  if (problem) throw new EnvmountError('USAGE', `Cannot use ${problem}.`);
  if (isReservedName(name)) {
    throw new EnvmountError('USAGE', `Names starting with ${RESERVED_PREFIX} are envmount's own. Choose another name.`);
  }
}

export function createHandler(deps: HandlerDeps): Handler {
  const { mounts, store, approvals } = deps;
  const methods: Implementations = {
    ping: () => {
      const { pid, version } = deps.daemonStatus();
      return { pid, version, protocol: 1 };
    },
    add: (p) => mounts.add(p),
    policy: (p) => mounts.setPolicy(p.path, p),
    approvals: () => approvals.list(),
    approve: async (p, peer) => {
      requireTerminal(peer, '`envmount approve`');
      const request = approvals.get(p.id);
      if (request && deps.agent.isAction(p.id)) {
        // An agent's request: applied as asked, never turned into a grant or rule for the agent's own process.
        if (p.forMs !== undefined || p.always) {
          throw new EnvmountError(
            'USAGE',
            `Request ${p.id} is an agent's request; approve it without --for or --always.`,
          );
        }
        if (!approvals.approve(p.id)) throw noPending(p.id);
        await deps.agent.apply(p.id);
        return { id: p.id, mount: request.mount, exe: request.exe };
      }
      if (!request) throw noPending(p.id);
      const rule = checkApproval(p, request, approvals);
      if (!approvals.approve(p.id, p.forMs !== undefined ? { forMs: p.forMs } : {})) throw noPending(p.id);
      if (rule) await mounts.allowAlways(request.mount, rule);
      return { id: p.id, mount: request.mount, exe: request.exe, ...(rule ? { rule: describeRule(rule) } : {}) };
    },
    deny: (p) => {
      const request = approvals.get(p.id);
      if (!request || !approvals.deny(p.id)) throw noPending(p.id);
      return { id: p.id, mount: request.mount, exe: request.exe };
    },
    log: (p) => ({
      entries: deps.audit.query({
        ...(p.path ? { mount: mounts.pathOf(p.path) } : {}),
        ...(p.after !== undefined ? { after: p.after } : {}),
        ...(p.limit !== undefined ? { limit: p.limit } : {}),
      }),
    }),
    remove: async (p) => {
      const removed = await mounts.remove(p.path);
      approvals.cancel(removed.path);
      approvals.clearGrants(removed.path);
      return removed;
    },
    // What waits for the user is shown with each mount, the moment it starts waiting.
    list: () => mounts.list().map((m) => ({ ...m, waiting: approvals.waitingOn(m.path) })),
    status: async () => ({
      daemon: deps.daemonStatus(),
      mounts: (await mounts.status()).map((m) => ({ ...m, waiting: approvals.waitingOn(m.path) })),
    }),
    set: async (p) => {
      checkName(p.name);
      const value = Buffer.from(p.valueBase64, 'base64');
      const created = !store.has(p.name);
      try {
        await store.setMany([{ name: p.name, value }]);
      } finally {
        value.fill(0);
      }
      deps.waiters.notify([p.name]);
      return { name: p.name, created, mounts: mounts.refreshAll(p.name) };
    },
    unset: async (p) => {
      checkName(p.name);
      const removed = await store.unset(p.name);
      if (removed) mounts.refreshAll();
      return { name: p.name, removed };
    },
    vars: () => ({ names: store.names().filter((n) => !isReservedName(n)) }),
    login: async (p) => {
      if (p.serviceAccountTokenBase64 !== undefined) {
        const token = Buffer.from(p.serviceAccountTokenBase64, 'base64');
        try {
          return await deps.onePassword.login({ kind: 'token', token: token.toString('utf8') });
        } finally {
          token.fill(0);
        }
      }
      return deps.onePassword.login(
        p.account !== undefined ? { kind: 'account', account: p.account } : { kind: 'op-cli' },
      );
    },
    refresh: async (p) => ({ mounts: await mounts.reload(p.path), onePassword: deps.onePassword.status() }),
    lock: () => {
      deps.lock();
      return { locked: true as const };
    },
    unlock: async () => {
      await deps.unlock();
      return { locked: false as const, onePassword: deps.onePassword.status() };
    },
    import: (p) => importDotenv(p.dir, { prefix: p.prefix, merge: p.merge }, p, { store, mounts }),
    run: (p, peer) => deps.run(p, peer),
    ...deps.environments,
  };
  return async (method, params, peer) => {
    if (!Object.hasOwn(paramSchemas, method)) {
      throw new EnvmountError('BAD_REQUEST', `Unknown method "${method}". Is the CLI newer than the daemon?`);
    }
    const name = method as Method;
    const parsed = paramSchemas[name].safeParse(params);
    if (!parsed.success) {
      throw new EnvmountError('BAD_REQUEST', `Bad parameters for ${name}: ${z.prettifyError(parsed.error)}`);
    }
    let implementation = methods[name] as (p: unknown, peer: Peer) => Promise<unknown> | unknown;
    if (peer.agent) {
      deps.agent.check(name);
      // The peer is `envmount mcp`: its client (an agent) is known from now on, and so are its children.
      registerAgentClient(peer.pid);
      const held = deps.agent.methods[name as keyof AgentRequests['methods']];
      if (held) implementation = held as typeof implementation;
    }
    return implementation(parsed.data, peer);
  };
}
