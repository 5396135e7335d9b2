/**
 * When the healer looks (mount-healer.ts decides what to do): on a timer, at every mount or only at those that need
 * it, and soon after the watcher reports a change at a path. Heals run one after another; the MountService owns the
 * entries and lends them here.
 */
import type { Logger } from 'pino';
import { type Healable, heal, healthyMounts, lookAt } from './mount-healer.js';

const HEAL_MS = 500;
/** Where paths are watched, every mount is looked at every this many ticks (10: every 5 s), as a safety net. */
const FULL_LOOK_TICKS = 10;

/** How long after the watcher's report the healer looks: changes come in steps (`rm -rf` empties the directory
 * first; `rm .env; echo X > .env`), and the look should see the end of them. */
const LOOK_DELAY_MS = 150;

export interface HealScheduleDeps<E extends Healable> {
  readonly entries: () => Iterable<E>;
  readonly restart: (entry: E) => Promise<void>;
  readonly uid: number;
  readonly logger: Logger;
}

export class HealSchedule<E extends Healable> {
  readonly #deps: HealScheduleDeps<E>;
  /** The heal in progress (or done): heals run one after another. */
  #healing: Promise<void> = Promise.resolve();
  #lookTimer: NodeJS.Timeout | undefined;
  #ticker: NodeJS.Timeout | undefined;
  /** Heals queued or running: a tick that finds one skips, so slow heals (a restart) do not pile up. */
  #pending = 0;
  #closed = false;
  // The healer's memory of each mount, owned here (entries that are removed drop out with them):
  /** A foreign inode seen at the path at the last look (mount-healer.ts takes the path over if it stays). */
  readonly #suspects = new WeakMap<E, number>();
  /** The watcher reported a change at the path since the last look. */
  readonly #requested = new WeakSet<E>();

  constructor(deps: HealScheduleDeps<E>) {
    this.#deps = deps;
  }

  /**
   * Looks at mount paths and heals what changed under them: every mount (`all`), or only those the watcher
   * reported, those not serving and those with a suspect at the last look.
   */
  heal(all: boolean): Promise<void> {
    this.#pending++;
    this.#healing = this.#healing
      .then(() => this.#healOnce(all))
      .finally(() => {
        this.#pending--;
      });
    return this.#healing;
  }

  /**
   * Looks every HEAL_MS. Where the watcher reports changes at mount paths (`watched`: inotify), a tick looks only
   * at mounts not serving or still suspect, and at every mount every FULL_LOOK_TICKS ticks; elsewhere every tick
   * looks at every mount.
   */
  start(watched: boolean): void {
    if (this.#ticker || this.#closed) return;
    let tick = 0;
    this.#ticker = setInterval(() => {
      if (this.#pending > 0) return;
      this.heal(!watched || tick++ % FULL_LOOK_TICKS === 0).catch((error: unknown) =>
        this.#deps.logger.warn({ err: error }, 'healing failed'),
      );
    }, HEAL_MS);
    this.#ticker.unref();
  }

  /** The watcher saw the path of `entry` change: look at it soon rather than at the next tick. */
  lookSoon(entry: E): void {
    this.#requested.add(entry);
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
    clearInterval(this.#ticker);
  }

  async #healOnce(all: boolean): Promise<void> {
    if (this.#closed) return;
    const ops = { logger: this.#deps.logger, restart: this.#deps.restart };
    const due = [...this.#deps.entries()].filter(
      (e) => all || this.#requested.has(e) || this.#suspects.has(e) || e.mount.state !== 'serving',
    );
    if (due.length === 0) return;
    for (const e of due) this.#requested.delete(e);
    const healthy = healthyMounts(due);
    const actions = due.flatMap((e) => {
      if (healthy.has(e)) {
        this.#suspects.delete(e);
        return [];
      }
      const look = lookAt(e, this.#deps.uid, this.#suspects.get(e));
      if (look.suspect === undefined) this.#suspects.delete(e);
      else this.#suspects.set(e, look.suspect);
      return [[e, look.action] as const];
    });
    for (const [entry, action] of actions) {
      if (action.kind !== 'none' && !this.#closed) await heal(entry, action, ops);
    }
  }
}
