import { MIN_MASKED_LENGTH } from '../core/masker.js';
import { readerLimits } from '../core/reader-limits.js';
import { environmentReference } from '../core/reference.js';
import { renderFormat } from '../core/render-formats.js';
import type { TemplateEntry } from '../core/template.js';
import { resolveEntries, type ValueSource, wipeItems } from '../secrets/resolve.js';
import type { Entry } from './mount-entry.js';

/** The template of an environment of the store (environments.ts), or why there is none. */
export type StoreEnvironments = (name: string) => TemplateEntry[] | { problem: string };

/** The bytes a reader of this mount gets now (and its problems, recorded on the entry). The caller wipes them. */
export function renderEntry(entry: Entry, source: ValueSource, storeEnvironments: StoreEnvironments): Buffer {
  const stored = entry.mount.record.storeEnvironment;
  if (stored) {
    const entries = storeEnvironments(stored);
    entry.template = Array.isArray(entries) ? { entries } : { error: entries.problem };
  }
  const environment = entry.mount.record.environment;
  if (environment) {
    // An Environment mount: its variables are whatever the Environment holds at the last refresh.
    const names = source.environmentNames(environment);
    if (!Array.isArray(names)) {
      entry.problems = [];
      return Buffer.from(`# envmount: ${names.problem.replace(/[\r\n]+/g, ' ')}\n`);
    }
    entry.template = {
      entries: names.map((key) => ({
        key,
        line: 0,
        parts: [{ kind: 'ref', ref: environmentReference(environment, key) }],
      })),
    };
  }
  if ('error' in entry.template) {
    entry.problems = [];
    return Buffer.from(`# envmount: this mount's template has an error: ${entry.template.error}\n`);
  }
  const { items, problems, secretRanges } = resolveEntries(entry.template.entries, source);
  try {
    const rendered = renderFormat(entry.format, items);
    entry.problems = problems;
    entry.unrepresentable = rendered.unrepresentable;
    entry.readerLimits =
      entry.format === 'dotenv'
        ? items.flatMap((item) => {
            const note =
              'value' in item && !rendered.unrepresentable.includes(item.key) ? readerLimits(item.value) : undefined;
            return note ? [{ key: item.key, note }] : [];
          })
        : [];
    entry.unmasked = [...secretRanges].flatMap(([key, ranges]) =>
      ranges.some(([start, end]) => end > start && end - start < MIN_MASKED_LENGTH) ? [key] : [],
    );
    return rendered.content;
  } finally {
    wipeItems(items);
  }
}
