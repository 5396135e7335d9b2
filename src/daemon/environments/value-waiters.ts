/**
 * Requests waiting for a store value to be set (`envmount mcp`'s request_variable): they end when `envmount set`
 * (or append_variables) sets the name, or when their time is up. Owned by the daemon's handlers; nothing here
 * sees a value, only that a name was set.
 */
export class ValueWaiters {
  readonly #waiting = new Map<string, Set<(set: boolean) => void>>();

  /** Resolves true when `name` is set, false after `timeoutMs` (or when the daemon stops). */
  wait(name: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiters = this.#waiting.get(name) ?? new Set();
      this.#waiting.set(name, waiters);
      const done = (set: boolean) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.#waiting.delete(name);
        resolve(set);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      waiters.add(done);
    });
  }

  /** How many requests wait now (`status` shows it: a test or a person can see that a request is listening). */
  get count(): number {
    let count = 0;
    for (const waiters of this.#waiting.values()) count += waiters.size;
    return count;
  }

  notify(names: Iterable<string>): void {
    for (const name of names) for (const done of [...(this.#waiting.get(name) ?? [])]) done(true);
  }

  cancelAll(): void {
    for (const waiters of [...this.#waiting.values()]) for (const done of [...waiters]) done(false);
  }
}
