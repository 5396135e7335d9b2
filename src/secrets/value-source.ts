/**
 * The value source behind references: `envmount://NAME` from the embedded store, `op://` from the 1Password cache
 * when a provider is configured (`envmount login`).
 */
import type { Reference } from '../core/reference.js';
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
      if (store.locked) return { problem: 'the store is locked; run `envmount unlock`' };
      return store.peek(ref.name) ?? { problem: `${ref.raw} is not set; run \`envmount set ${ref.name}\`` };
    },
  };
}
