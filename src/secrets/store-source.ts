/** The value source behind `envmount://NAME` references (the embedded store) and the message for `op://` ones. */
import type { Reference } from '../core/reference.js';
import type { ValueSource } from './resolve.js';
import type { EmbeddedStore } from './store.js';

export function storeSource(store: EmbeddedStore): ValueSource {
  return {
    lookup(ref: Reference) {
      if (ref.scheme === 'op') {
        return { problem: `${ref.raw} cannot be resolved: no 1Password provider is configured` };
      }
      return store.peek(ref.name) ?? { problem: `${ref.raw} is not set; run \`envmount set ${ref.name}\`` };
    },
  };
}
