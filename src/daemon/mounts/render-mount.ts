import { MIN_MASKED_LENGTH } from '../../core/masker.js';
import { readerLimits } from '../../core/reader-limits.js';
import { environmentReference } from '../../core/reference.js';
import { oneLine } from '../../core/render.js';
import { renderFormat } from '../../core/render-formats.js';
import { resolveEntries, type ValueSource, wipeItems } from '../../secrets/resolve.js';
import type { StoreEnvironments } from './mount-deps.js';
import type { Entry } from './mount-entry.js';

/**
 * For a mount that serves an Environment (the store's or 1Password's): takes its variables as the template now.
 * Returns why there are none, if so. Template-file mounts are left as they are.
 */
export function takeEnvironmentTemplate(
  entry: Entry,
  source: ValueSource,
  storeEnvironments: StoreEnvironments,
): string | undefined {
  const stored = entry.mount.record.storeEnvironment;
  if (stored) {
    const entries = storeEnvironments(stored);
    entry.template = Array.isArray(entries) ? { entries } : { error: entries.problem };
  }
  const environment = entry.mount.record.environment;
  if (!environment) return undefined;
  // A 1Password Environment: its variables are whatever it held at the last refresh.
  const names = source.environmentNames(environment);
  if (!Array.isArray(names)) return names.problem;
  entry.template = {
    entries: names.map((key) => ({
      key,
      line: 0,
      parts: [{ kind: 'ref', ref: environmentReference(environment, key) }],
    })),
  };
  return undefined;
}

/**
 * The bytes a reader of this mount gets now. The caller wipes them. With `diagnose` (a refresh, not a read) the
 * entry's status fields are recomputed too: problems, values refused as unsafe, values too short to mask.
 */
export function renderEntry(
  entry: Entry,
  source: ValueSource,
  storeEnvironments: StoreEnvironments,
  diagnose = true,
): Buffer {
  const unavailable = takeEnvironmentTemplate(entry, source, storeEnvironments);
  if (unavailable !== undefined) {
    entry.problems = [];
    return Buffer.from(`# envmount: ${oneLine(unavailable)}\n`);
  }
  if ('error' in entry.template) {
    entry.problems = [];
    return Buffer.from(`# envmount: this mount's template has an error: ${oneLine(entry.template.error)}\n`);
  }
  const { items, problems, secretRanges } = resolveEntries(entry.template.entries, source);
  try {
    const rendered = renderFormat(entry.format, items);
    if (!diagnose) return rendered.content;
    entry.problems = problems;
    entry.refused = rendered.refused;
    entry.readerLimits =
      entry.format === 'dotenv'
        ? items.flatMap((item) => {
            const note = 'value' in item ? readerLimits(item.value) : undefined;
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
