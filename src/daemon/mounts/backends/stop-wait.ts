/** How long a backend waits for its native side to report `stopped` before it goes on without it. */
const STOP_WAIT_MS = 2000;

/** Waits for `stopped` to settle, at most STOP_WAIT_MS; true when it did not in time. */
export async function waitStopped(stopped: Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), STOP_WAIT_MS);
  });
  try {
    return await Promise.race([stopped.then(() => false), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
