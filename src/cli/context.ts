/** What every CLI command receives: where the daemon is, the working directory, and how to read a secret. */
import type { ControlClient } from '../control/client.js';
import type { ChildRunner } from '../core/child-spec.js';
import type { ServiceControl } from '../core/service-units.js';

export interface CliContext {
  readonly socketPath: string;
  readonly cwd: string;
  readonly version: string;
  /** Connects to the daemon (DAEMON_NOT_RUNNING with the start command when it is down). */
  readonly connect: () => Promise<ControlClient>;
  /** Reads a secret from a hidden prompt (terminal) or all of stdin; never from argv. */
  readonly readSecret: (prompt: string, options: { raw: boolean }) => Promise<Buffer>;
  /** Whether a person is at a terminal (stdin and stderr are TTYs). */
  readonly interactive: boolean;
  /** Asks a yes/no question on the terminal; true only for an explicit yes. */
  readonly confirm: (question: string) => Promise<boolean>;
  /** Waits (for `--follow` loops). */
  readonly sleep: (ms: number) => Promise<void>;
  /** Writes a line of data as it comes (for `--follow`). */
  readonly emit: (line: string) => void;
  /** Writes a diagnostic line (stderr) as it comes. */
  readonly note: (line: string) => void;
  /** Our environment, which `envmount run` passes on to its child. */
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Starts `envmount run`'s child. */
  readonly child: ChildRunner;
  /** Serves `envmount mcp` on stdio until the client closes it. */
  readonly mcp: () => Promise<void>;
  /** envmountd as a user service (`envmount service`, `envmount doctor`). */
  readonly service: ServiceControl;
  /** The backend `add` uses when --backend is not given (ENVMOUNT_BACKEND), if the user chose one. */
  readonly defaultBackend?: string | undefined;
  /** Our uid: mount pipes must be ours. */
  readonly uid: number;
  /** The daemon's registry file: `envmount doctor` reads the mount paths from it when the daemon is down. */
  readonly registryFile: string;
  /** Runs a helper command (git, for `envmount doctor`) to completion; code 127 when it is not installed. */
  readonly exec: (
    command: string,
    args: readonly string[],
    options: { cwd: string },
  ) => Promise<{ code: number; stdout: string; stderr: string }>;
}

/** A command's outcome: `data` for --json, `text` for people (stdout). */
export interface CommandOutput {
  readonly data: unknown;
  readonly text: string;
  /** Set by `envmount run`: the child's exit code; the child has written its own output, nothing is printed. */
  readonly exitCode?: number;
  /** Printed as usual, then exit 1 (`envmount doctor` found problems). */
  readonly failed?: boolean;
}

export async function withClient<T>(ctx: CliContext, use: (client: ControlClient) => Promise<T>): Promise<T> {
  const client = await ctx.connect();
  try {
    return await use(client);
  } finally {
    client.close();
  }
}
