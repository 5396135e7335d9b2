/**
 * When the healer looks (mount-healer.ts decides what to do): on the daemon's timer, at every mount or only at
 * those that need it, and soon after the watcher reports a change at a path. Heals run one after another; the
 * MountService owns the entries and lends them here.
 */
import type { Logger } from 'pino';
import type { Entry } from './mount-entry.js';
import { heal, lookAt, needingALook } from './mount-healer.js';

/** How long after the watcher's report the healer looks: changes come in steps (`rm -rf` empties the directory
 * first; `rm .env; echo X > .env`), and the look should see the end of them. */
const LOOK_DELAY_MS = 150;

export interface HealScheduleDeps {
  readonly entries: () => Iterable<Entry>;
  readonly restart: (entry: Entry) => Promise<void>;
  readonly uid: number;
  readonly logger: Logger;
}

export class HealSchedule {
  readonly #deps: HealScheduleDeps;
  /** The heal in progress (or done): heals run one after another. */
  #healing: Promise<void> = Promise.resolve();
  #lookTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: HealScheduleDeps) {
    this.#deps = deps;
  }

  /**
   * Looks at mount paths and heals what changed under them: every mount (`all`), or only those the watcher
   * reported, those not serving and those with a suspect at the last look.
   */
  heal(all: boolean): Promise<void> {
    this.#healing = this.#healing.then(() => this.#healOnce(all));
    return this.#healing;
  }

  /** The watcher saw a path change: look soon rather than at the next tick. */
  lookSoon(): void {
    if (this.#lookTimer || this.#closed) return;
    this.#lookTimer = setTimeout(() => {
      this.#lookTimer = undefined;
      this.heal(false).catch((error: unknown) => this.#deps.logger.warn({ err: error }, 'healing failed'));
    }, LOOK_DELAY_MS);
  }

  /** No more looks (the daemon stops). Idempotent. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#lookTimer);
  }

  async #healOnce(all: boolean): Promise<void> {
    if (this.#closed) return;
    const ops = { logger: this.#deps.logger, restart: this.#deps.restart };
    const due = [...this.#deps.entries()].filter(
      (e) => all || e.lookRequested || e.suspect !== undefined || e.mount.state !== 'serving',
    );
    if (due.length === 0) return;
    for (const e of due) e.lookRequested = false;
    const actions = needingALook(due).map((e) => [e, lookAt(e, this.#deps.uid)] as const);
    for (const [entry, action] of actions) {
      if (action.kind !== 'none' && !this.#closed) await heal(entry, action, ops);
    }
  }
}
