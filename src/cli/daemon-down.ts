/**
 * When nothing answers on the socket, the service manager says why: the daemon is starting (then we wait for it,
 * a bounded while), its service is stopped, it is not installed, or there is no service manager here. Each case
 * names its own next command, so `envmount service install && envmount set NAME` works and nobody is told to run
 * `envmountd start` while systemd is starting it.
 */
import type { ControlClient } from '../control/client.js';
import { EnvmountError, isEnvmountError } from '../core/errors.js';
import type { ServiceState } from '../core/service-units.js';
import type { CliContext } from './context.js';
import { restartCommand } from './service-commands.js';

/** How long a command waits for a daemon its service manager is starting. */
const STARTING_WAIT_MS = 15_000;
const POLL_MS = 100;

function notRunning(ctx: Pick<CliContext, 'socketPath'>, next: string, cause: unknown): EnvmountError {
  return new EnvmountError(
    'DAEMON_NOT_RUNNING',
    `envmountd is not running (nothing answers at ${ctx.socketPath}). ${next}`,
    {
      cause,
    },
  );
}

/** Connects; retries while the service manager is starting the daemon. */
type Base = Pick<CliContext, 'connect' | 'service' | 'sleep' | 'socketPath'>;

export async function connectOrExplain(ctx: Base): Promise<ControlClient> {
  try {
    return await ctx.connect();
  } catch (error) {
    if (!isEnvmountError(error) || error.code !== 'DAEMON_NOT_RUNNING') throw error;
    let state: ServiceState | undefined;
    try {
      state = await ctx.service.state();
    } catch {
      state = undefined;
    }
    if (state?.starting) return waitWhileStarting(ctx, state);
    throw explain(ctx, state, error);
  }
}

async function waitWhileStarting(ctx: Base, state: ServiceState): Promise<ControlClient> {
  for (let waited = 0; waited < STARTING_WAIT_MS; waited += POLL_MS) {
    await ctx.sleep(POLL_MS);
    try {
      return await ctx.connect();
    } catch (error) {
      if (!isEnvmountError(error) || error.code !== 'DAEMON_NOT_RUNNING') throw error;
    }
  }
  throw new EnvmountError(
    'DAEMON_NOT_RUNNING',
    `envmountd is starting (${state.manager} is starting its service), but nothing answered at ${ctx.socketPath} within ${STARTING_WAIT_MS / 1000} s. See \`envmount service status\` and \`envmount service logs\`.`,
  );
}

function explain(ctx: Base, state: ServiceState | undefined, cause: unknown): EnvmountError {
  if (!state || state.unavailable)
    return notRunning(
      ctx,
      `Start it: \`envmountd start\` in a terminal${state?.unavailable ? `, or \`nohup envmountd start >>envmountd.log 2>&1 &\`. No service manager can run it here: ${state.unavailable}` : ''}.`,
      cause,
    );
  if (!state.installed)
    return notRunning(
      ctx,
      'Start it: `envmount service install` (a user service, started at login), or `envmountd start` in a terminal.',
      cause,
    );
  if (state.running)
    return notRunning(
      ctx,
      `Its ${state.manager} service runs (pid ${state.pid ?? '?'}) but does not answer here: see \`envmount service status\`.`,
      cause,
    );
  return notRunning(
    ctx,
    `Its ${state.manager} service is installed but stopped${state.lastError ? ` (${state.lastError})` : ''}: start it with ${restartCommand(state)}; see \`envmount service logs\`.`,
    cause,
  );
}
