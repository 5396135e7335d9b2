/**
 * The tools of `envmount mcp`, each one request to the daemon. What an agent can learn: environment and variable
 * names, whether a variable is set, mount paths and states, who read a mount. What it can never learn: a value.
 * Values go one way only, agent to store (append_variables). Every message says what to do next.
 */
import { z } from 'zod';
import type { ControlClient } from '../control/client.js';
import type { Confirmation, Method, Params, Results } from '../control/protocol.js';
import { FORMATS } from '../core/render-formats.js';

export interface ToolDeps {
  readonly connect: () => Promise<ControlClient>;
  /** Resolves a directory an agent names against the directory `envmount mcp` was started in. */
  readonly resolveDir: (dir: string) => string;
}

export interface ToolDefinition {
  readonly description: string;
  readonly input: z.ZodRawShape;
  readonly run: (args: Record<string, unknown>, deps: ToolDeps) => Promise<unknown>;
}

async function ask<M extends Method>(deps: ToolDeps, method: M, params: Params<M>): Promise<Results[M]> {
  const client = await deps.connect();
  try {
    return await client.request(method, params);
  } finally {
    client.close();
  }
}

const environment = z.string().min(1).max(100).describe('the environment name');
const rules = z.array(z.string().min(1).max(500)).max(20);

/** What a mount's status tells an agent: state, health, who read it last. Never a value. */
function mountView(m: Results['status']['mounts'][number]) {
  return {
    path: m.path,
    state: m.state,
    reason: m.reason,
    environment: m.storeEnvironment ?? m.onePasswordEnvironment,
    variables: m.variables,
    unresolved: m.problems.map((p) => ({ name: p.key, problem: p.problem })),
    readers: m.policy,
    reads: m.reads,
    lastReaders: m.lastReaders,
    // Reads waiting for the user's approval: the agent can tell the user which command answers them.
    waiting: m.waiting,
  };
}

/** What the user must do before an agent's request that would widen access applies (nothing, if none). */
function confirmation(confirm: Confirmation | undefined, until: string) {
  if (!confirm) return {};
  return {
    notApplied: confirm.applies,
    message: `Not applied yet: ${confirm.applies}. ${until} Ask the user to run \`${confirm.command}\` in their terminal to confirm it (before ${confirm.expiresAt}); you cannot confirm it yourself.`,
  };
}

export const TOOLS: Readonly<Record<string, ToolDefinition>> = {
  list_environments: {
    description:
      "Lists the environments: named sets of variables in envmount's encrypted store, and the 1Password Environments mounts use. Names and counts only.",
    input: {},
    run: async (_args, deps) => (await ask(deps, 'environments', {})).environments,
  },
  create_environment: {
    description: 'Creates an empty environment. Add variables with append_variables or request_variable.',
    input: { name: environment },
    run: (args, deps) => ask(deps, 'environmentCreate', { name: String(args.name) }),
  },
  rename_environment: {
    description:
      "Renames an environment; its values and the mounts that serve it follow. Refused when a mount's template names values of either name (envmount://NAME/...): that mount would start serving other values.",
    input: { name: environment, new_name: z.string().min(1).max(100).describe('the new name') },
    run: (args, deps) => ask(deps, 'environmentRename', { from: String(args.name), to: String(args.new_name) }),
  },
  list_variables: {
    description:
      'Lists the variables of an environment: each name, whether it is set, and its reference if it is one. Never values.',
    input: { environment },
    run: (args, deps) => ask(deps, 'environmentVariables', { name: String(args.environment) }),
  },
  append_variables: {
    description:
      "Adds variables to an environment: a literal value you (the agent) already have, or a reference (op://vault/item/field, envmount://NAME). A reference to anything but this environment's own values (envmount://ENVIRONMENT/NAME) is added only after the user confirms it in a terminal; the reply says the command. Values go into the encrypted store and are never shown again, to you or anyone. For a secret the user holds, use request_variable instead: never ask the user to paste a secret into the chat.",
    input: {
      environment,
      variables: z
        .array(
          z.object({
            name: z.string().min(1).max(200),
            value: z.string().max(65536).optional().describe('a literal value'),
            reference: z.string().max(1000).optional().describe('op://... or envmount://...'),
          }),
        )
        .min(1)
        .max(100),
    },
    run: async (args, deps) => {
      const variables = (args.variables as Array<{ name: string; value?: string; reference?: string }>).map((v) =>
        v.value !== undefined
          ? { name: v.name, valueBase64: Buffer.from(v.value, 'utf8').toString('base64') }
          : { name: v.name, ...(v.reference !== undefined ? { reference: v.reference } : {}) },
      );
      const { confirm, ...info } = await ask(deps, 'environmentAppend', { name: String(args.environment), variables });
      return { ...info, ...confirmation(confirm, 'Until then those variables are not in the environment.') };
    },
  },
  request_variable: {
    description:
      'Asks the user for a secret without it passing through you: declares the variable, then waits until the user sets it (they run `envmount set ENVIRONMENT/NAME` in a terminal, which reads it from a hidden prompt). Tell the user that command before calling. Returns whether it was set; never the value.',
    input: {
      environment,
      name: z.string().min(1).max(200).describe('the variable name'),
      timeout_seconds: z.number().int().min(0).max(600).optional().describe('how long to wait (default 50)'),
    },
    run: async (args, deps) => {
      const name = String(args.environment);
      const variable = String(args.name);
      const timeoutMs = Number(args.timeout_seconds ?? 50) * 1000;
      const result = await ask(deps, 'environmentRequest', { name, variable, timeoutMs });
      return result.set
        ? { ...result, message: `${variable} is set.` }
        : {
            ...result,
            message: `${variable} is not set yet. Ask the user to run \`envmount set ${name}/${variable}\` in their terminal, then call request_variable again.`,
          };
    },
  },
  create_local_env_file: {
    description:
      "Mounts an environment at a project's .env (a named pipe: no plaintext on disk). Programs the policy allows read the values; by default the user is asked for each new reader (`envmount approvals`). allow/deny take rules: a program name (node), exe:GLOB, argv:GLOB, ancestor:GLOB, or any. Deny rules apply at once; allow rules and otherwise=allow apply only after the user confirms them in a terminal (the reply says the command).",
    input: {
      environment: environment.optional().describe('an environment of the store'),
      onepassword_environment: z.string().min(1).max(100).optional().describe('or a 1Password Environment ID'),
      directory: z.string().min(1).max(4096).describe('the project directory'),
      path: z
        .string()
        .min(1)
        .max(4096)
        .optional()
        .describe('mount here instead of DIRECTORY/.env: a file named .env or .env.SOMETHING inside DIRECTORY'),
      allow: rules.optional(),
      deny: rules.optional(),
      otherwise: z.enum(['ask', 'deny', 'allow']).optional().describe('what readers no rule matches get (default ask)'),
      format: z.enum(FORMATS).optional().describe('what readers get (default dotenv)'),
    },
    run: async (args, deps) => {
      const params: Params<'add'> = {
        dir: deps.resolveDir(String(args.directory)),
        ...(args.path !== undefined ? { path: deps.resolveDir(String(args.path)) } : {}),
        ...(args.environment !== undefined ? { storeEnvironment: String(args.environment) } : {}),
        ...(args.onepassword_environment !== undefined ? { environment: String(args.onepassword_environment) } : {}),
        ...(args.allow !== undefined ? { allow: args.allow as string[] } : {}),
        ...(args.deny !== undefined ? { deny: args.deny as string[] } : {}),
        ...(args.otherwise !== undefined ? { otherwise: args.otherwise as 'ask' | 'deny' | 'allow' } : {}),
        ...(args.format !== undefined ? { format: args.format as (typeof FORMATS)[number] } : {}),
      };
      const { confirm, ...status } = await ask(deps, 'add', params);
      return {
        ...mountView(status),
        ...confirmation(confirm, 'Until then the mount asks the user for each reader (and applies your deny rules).'),
      };
    },
  },
  list_local_env_files: {
    description: 'Lists the mounted .env files: path, state, environment or template, variable names.',
    input: {},
    run: (_args, deps) => ask(deps, 'list', {}),
  },
  remove_local_env_file: {
    description: 'Removes a mount: the named pipe goes; the environment and its values stay.',
    input: { path: z.string().min(1).max(4096).describe('the mounted file, or its project directory') },
    run: (args, deps) => ask(deps, 'remove', { path: deps.resolveDir(String(args.path)) }),
  },
  status: {
    description:
      'Health: the daemon, the 1Password source (stale, failing, locked) and each mount (state, unresolved variables, who may read, last readers).',
    input: {},
    run: async (_args, deps) => {
      const { daemon, mounts } = await ask(deps, 'status', {});
      return {
        daemon: { version: daemon.version, uptimeMs: daemon.uptimeMs, storeLocked: daemon.storeLocked },
        onePassword: daemon.onePassword,
        mounts: mounts.map(mountView),
      };
    },
  },
};
