/**
 * What `envmount run` hands to the part that starts the child (src/run): the CLI builds it, src/bin wires the
 * runner. Values are in the environment (strings: the child's environ needs them) and, for masking, in Buffers
 * the runner copies and the caller wipes.
 */
export interface ChildSpec {
  /** The executable, resolved to an absolute path before any value was fetched. */
  readonly file: string;
  /** argv[1..]; argv[0] is the command as the user typed it. */
  readonly args: readonly string[];
  readonly argv0: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Values to conceal in the child's output; empty: no masking. */
  readonly secrets: readonly Buffer[];
}

export interface ChildRunner {
  /** The absolute path `command` runs (PATH lookup as a shell does); COMMAND_NOT_FOUND or NOT_EXECUTABLE. */
  locate(command: string, cwd: string, path: string | undefined): Promise<string>;
  /** Runs the child to its end: its exit code, or 128+N for signal N. */
  run(spec: ChildSpec): Promise<number>;
  /** Whether the child gets a pseudo-terminal (stdout is a terminal). */
  readonly terminal: boolean;
}
