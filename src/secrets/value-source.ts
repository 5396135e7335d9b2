/**
 * The value source behind references: `envmount://NAME` from the embedded store, `op://` from the 1Password cache
 * when a provider is configured (`envmount login`).
 */
import { isReservedName, type Reference } from '../core/reference.js';
import type { SecretCache } from './cache.js';
import type { ValueSource } from './resolve.js';
import type { EmbeddedStore } from './store.js';

export function valueSource(store: EmbeddedStore, cache: () => SecretCache | undefined): ValueSource {
  return {
    environmentNames(id: string) {
      return cache()?.environmentNames(id) ?? { problem: 'no 1Password provider is configured; run `envmount login`' };
    },
    lookup(ref: Reference) {
      if (ref.scheme === 'op' || ref.scheme === 'op-environment') {
        const current = cache();
        if (current) return current.lookup(ref.raw);
        return {
          problem: `${ref.raw} cannot be resolved: no 1Password provider is configured; run \`envmount login\``,
        };
      }
      // The root of what parseReference refuses: whatever built this reference, envmount's own names stay its own.
      if (isReservedName(ref.name)) return { problem: `${ref.raw} is envmount's own name; it is never served` };
      if (store.locked) return { problem: 'the store is locked; run `envmount unlock`' };
      return store.peek(ref.name) ?? { problem: `${ref.raw} is not set; run \`envmount set ${ref.name}\`` };
    },
  };
}
