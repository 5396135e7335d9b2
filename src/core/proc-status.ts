/** Fields of a Linux /proc/PID/status text (pure: the caller reads the file). */

/** `NoNewPrivs:` (systemd's NoNewPrivileges=yes): true or false, undefined when the field is absent. */
export function noNewPrivsIn(status: string): boolean | undefined {
  const line = status.split('\n').find((l) => l.startsWith('NoNewPrivs:'));
  return line === undefined ? undefined : line.slice('NoNewPrivs:'.length).trim() === '1';
}
