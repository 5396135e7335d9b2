/**
 * What an agent may do through `envmount mcp` (requests whose `origin` is `agent`): nothing it asks widens who can
 * read what. It may use only the methods its tools send. Its environments reach only values they hold: a name
 * whose store namespace (`NAME/…`) already holds values cannot be taken, and a reference it appends that is not the
 * environment's own value (`envmount://ENV/VAR`) — another stored value, any `op://` — is added only once the user
 * confirms it, and so is a variable whose name changes which code a program loads (NODE_OPTIONS, LD_PRELOAD...:
 * core/dangerous-env.ts). A mount's rules that admit readers (allow, `--otherwise allow`) likewise wait: the mount serves with
 * the default (ask each reader) and the deny rules until then. A confirmation is a pending request of Approvals,
 * answered only by `envmount approve ID` run in a terminal (never the desktop dialog, never an agent's request).
 */
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Confirmation, Method, Params, Results } from '../control/protocol.js';
import type { Peer } from '../control/server.js';
import { isDangerousName } from '../core/dangerous-env.js';
import { EnvmountError } from '../core/errors.js';
import { parseReference } from '../core/reference.js';
import type { EmbeddedStore } from '../secrets/store.js';
import type { environmentMethods } from './environments/environment-methods.js';
import type { MountService } from './mounts/mounts.js';
import type { Approvals } from './readers/approvals.js';
import { describeProcess } from './readers/process-info.js';

/** The methods the MCP tools send; an agent's request for any other is refused. */
export const AGENT_METHODS: ReadonlySet<string> = new Set<Method>([
  'ping',
  'status',
  'list',
  'add',
  'remove',
  'environments',
  'environmentCreate',
  'environmentRename',
  'environmentVariables',
  'environmentAppend',
  'environmentRequest',
]);

/** How long an agent's request waits for the user. */
export const AGENT_CONFIRM_MS = 10 * 60_000;

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,199}$/;

export interface AgentDeps {
  readonly mounts: MountService;
  readonly store: EmbeddedStore;
  readonly approvals: Approvals;
  readonly environments: ReturnType<typeof environmentMethods>;
  readonly validate: (reference: string) => string | undefined;
  readonly logger: Logger;
}

/**
 * Where an agent may put a mount: a file named `.env` or `.env.SOMETHING` inside the directory it names. Any other
 * name may be a file something runs or sources (`~/.profile` in `shell` format, `.envrc` for direnv).
 */
function checkAgentPath(path: string, dir: string): void {
  const name = basename(path);
  const inside = relative(dir, path);
  const named = name === '.env' || name.startsWith('.env.');
  if (named && inside !== '' && inside !== '..' && !inside.startsWith('../') && !isAbsolute(inside)) return;
  throw new EnvmountError(
    'PATH_NOT_ALLOWED',
    `An agent may mount only a file named .env or .env.SOMETHING (such as .env.local) inside the directory it names; "${path}" is ${named ? `outside "${dir}"` : 'not such a name'}. Choose such a path, or ask the user to run \`envmount add\` with --path in a terminal.`,
  );
}

type AgentMethod = 'add' | 'environmentCreate' | 'environmentRename' | 'environmentAppend';

export class AgentRequests {
  readonly #deps: AgentDeps;
  // Owned here: what each pending confirmation applies once the user approves it.
  readonly #actions = new Map<number, () => Promise<unknown>>();

  constructor(deps: AgentDeps) {
    this.#deps = deps;
  }

  /** Refuses a method the MCP tools never send. */
  check(method: string): void {
    if (!AGENT_METHODS.has(method)) {
      throw new EnvmountError(
        'FORBIDDEN',
        `envmount mcp may not send "${method}": it is for the user. Ask the user to run the envmount command in a terminal.`,
      );
    }
  }

  /** Whether a pending request is an agent's (its answer applies an action). */
  isAction(id: number): boolean {
    return this.#actions.has(id);
  }

  /** Applies what the user just approved (called by `approve`, after Approvals marked it allowed). */
  async apply(id: number): Promise<void> {
    const action = this.#actions.get(id);
    this.#actions.delete(id);
    await action?.();
  }

  readonly methods: { [M in AgentMethod]: (params: Params<M>, peer: Peer) => Promise<Results[M]> } = {
    add: (p, peer) => this.#add(p, peer),
    environmentCreate: async (p) => {
      this.#checkNamespace(p.name);
      this.#checkUnmounted(p.name, 'create', true);
      return this.#deps.environments.environmentCreate(p);
    },
    environmentRename: async (p) => {
      this.#checkNamespace(p.to);
      this.#checkUnmounted(p.from, 'rename', false);
      this.#checkUnmounted(p.to, 'rename', true);
      return this.#deps.environments.environmentRename(p);
    },
    environmentAppend: (p, peer) => this.#append(p, peer),
  };

  /** An agent's environment reaches only the values it holds: not a name under which the store holds values. */
  #checkNamespace(name: string): void {
    const prefix = `${name}/`;
    if (this.#deps.store.names().some((n) => n.startsWith(prefix))) {
      throw new EnvmountError(
        'FORBIDDEN',
        `The store already holds values named ${prefix}…; an environment "${name}" made by an agent would reach them. Choose another name.`,
      );
    }
  }

  /**
   * A name a mount uses (it serves that environment, or its template names `envmount://NAME/…`) is the user's: an
   * agent's create or rename there would change what that mount serves. Refused outright (nothing waits). A mount
   * serving the environment being renamed follows it (`served` false for the old name).
   */
  #checkUnmounted(name: string, verb: 'create' | 'rename', served: boolean): void {
    const path = this.#deps.mounts.referencing(name, served);
    if (path === undefined) return;
    throw new EnvmountError(
      'FORBIDDEN',
      `Refused: the mount ${path} uses the environment name "${name}"; an agent's ${verb} there would change what that mount serves. Choose a name no mount's template uses; a user's mount keeps serving what it served.`,
    );
  }

  async #append(p: Params<'environmentAppend'>, peer: Peer): Promise<Results['environmentAppend']> {
    const own = (reference: string) => {
      const ref = parseReference(reference);
      if (ref.scheme === 'op') {
        const problem = this.#deps.validate(ref.raw);
        if (problem) throw new EnvmountError('REFERENCE_INVALID', `Invalid reference "${ref.raw}": ${problem}.`);
        return false;
      }
      const rest = ref.name.startsWith(`${p.name}/`) ? ref.name.slice(p.name.length + 1) : '';
      return VARIABLE_NAME.test(rest);
    };
    // A name that changes which code a program loads (NODE_OPTIONS: `node --env-file` applies it) would run the
    // agent's code as the user in a reader the user trusts: it waits for the user too, whatever its value.
    const held = p.variables.filter((v) => isDangerousName(v.name) || (v.reference !== undefined && !own(v.reference)));
    const direct = p.variables.filter((v) => !held.includes(v));
    const info = await this.#deps.environments.environmentAppend({ name: p.name, variables: direct });
    if (held.length === 0) return info;
    const list = held
      .map((v) =>
        v.reference !== undefined
          ? `${v.name}=${v.reference}`
          : `${v.name}=(a value of the agent's; this name changes which code programs load)`,
      )
      .join(', ');
    const confirm = this.#confirm(
      peer,
      `environment ${p.name}`,
      `add to the environment "${p.name}": ${list}`,
      async () => await this.#deps.environments.environmentAppend({ name: p.name, variables: held }),
    );
    return { ...info, confirm };
  }

  async #add(p: Params<'add'>, peer: Peer): Promise<Results['add']> {
    const path = resolve(p.path ?? join(p.dir, '.env'));
    checkAgentPath(path, resolve(p.dir));
    const existing = this.#deps.mounts.list().find((m) => m.path === path);
    if (
      existing &&
      (existing.storeEnvironment !== p.storeEnvironment || existing.onePasswordEnvironment !== p.environment)
    ) {
      throw new EnvmountError(
        'FORBIDDEN',
        `${path} is mounted already, serving ${existing.template}; an agent cannot change what it serves or who reads it. Ask the user.`,
      );
    }
    const { allow, otherwise, reset, ...narrow } = p as Params<'add'> & { reset?: boolean };
    const wideOtherwise = otherwise === 'allow' || (otherwise === 'ask' && existing !== undefined);
    const wide = {
      ...(allow?.length ? { allow } : {}),
      ...(wideOtherwise ? { otherwise } : {}),
      ...(reset ? { reset } : {}),
    };
    const status = await this.#deps.mounts.add({
      ...narrow,
      ...(otherwise !== undefined && !wideOtherwise ? { otherwise } : {}),
    });
    if (Object.keys(wide).length === 0) return status;
    const words = [
      ...(wide.allow ?? []).map((rule) => (rule === 'any' ? 'allow any reader (--allow any)' : `--allow ${rule}`)),
      ...(wide.otherwise ? [`--otherwise ${wide.otherwise}`] : []),
      ...(wide.reset ? ['--reset'] : []),
    ];
    const confirm = this.#confirm(peer, status.path, `apply to ${status.path}: ${words.join(', ')}`, () =>
      this.#deps.mounts.setPolicy(status.path, wide),
    );
    return { ...status, confirm };
  }

  /** Registers what the agent asked for as a pending request; `apply` runs when the user approves it. */
  #confirm(peer: Peer, subject: string, words: string, apply: () => Promise<unknown>): Confirmation {
    // Shown in the user's terminal: the agent's text cannot bring control characters there.
    const action = [...words].map((ch) => (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? '?' : ch)).join('');
    const agent = describeProcess(peer.pid);
    if (!agent) throw new EnvmountError('FORBIDDEN', `Cannot identify the requesting process (pid ${peer.pid}).`);
    const { id, answer } = this.#deps.approvals.ask(subject, agent, [], { action, timeoutMs: AGENT_CONFIRM_MS });
    this.#actions.set(id, apply);
    void answer.then((result) => {
      if (result !== 'allow') this.#actions.delete(id);
    });
    this.#deps.logger.info({ id, subject, pid: peer.pid }, 'agent request waits for the user');
    const expiresAt = this.#deps.approvals.get(id)?.expiresAt ?? '';
    return { id, applies: action, command: `envmount approve ${id}`, expiresAt };
  }
}
