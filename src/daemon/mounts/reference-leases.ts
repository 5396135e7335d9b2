import { opReferencesOf } from '../templates/template-references.js';
import type { Entry } from './mount-entry.js';

/**
 * References `envmount run` resolved outside any mount (`--env-file`, `--environment`). They stay in the cache for
 * a while after the last run that used them, so that running a command again costs no provider call, and then
 * drop out at the next sync (the cache wipes their values at its next refresh).
 */
export class ReferenceLeases {
  // Owned here: lease ends (ms since epoch) by reference and by Environment ID.
  readonly #references = new Map<string, number>();
  readonly #environments = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  add(references: readonly string[], environments: readonly string[], forMs: number): void {
    const until = this.#now() + forMs;
    for (const reference of references) this.#references.set(reference, until);
    for (const id of environments) this.#environments.set(id, until);
  }

  /** What is still leased; expired leases are forgotten. */
  current(): { references: string[]; environments: string[] } {
    return { references: this.#live(this.#references), environments: this.#live(this.#environments) };
  }

  #live(leases: Map<string, number>): string[] {
    const now = this.#now();
    for (const [key, until] of leases) if (until <= now) leases.delete(key);
    return [...leases.keys()];
  }
}

/** What the cache must keep resolved: every mount's references and Environments, and the leased ones. */
export function wantedReferences(
  entries: readonly Entry[],
  leases: ReferenceLeases,
): { references: string[]; environments: string[] } {
  const leased = leases.current();
  return {
    references: [...opReferencesOf(entries.map((e) => e.template)), ...leased.references],
    environments: [...entries.flatMap((e) => e.mount.record.environment ?? []), ...leased.environments],
  };
}
