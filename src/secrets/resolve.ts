/**
 * Resolves a parsed template against the value sources into render items: a value Buffer per variable, or the
 * problem that keeps it from being served (named by reference, never by value).
 */

import type { Reference } from '../core/reference.js';
import type { RenderItem } from '../core/render.js';
import type { TemplateEntry } from '../core/template.js';

export interface VariableProblem {
  readonly key: string;
  readonly reference: string;
  readonly problem: string;
}

/** Where values come from: the embedded store today; 1Password providers plug in here. */
export interface ValueSource {
  /** The value Buffer for a reference (read synchronously, not kept), or the problem that prevents it. */
  lookup(ref: Reference): Buffer | { problem: string };
  /** The variable names of a 1Password Environment, or why they are not known. */
  environmentNames(id: string): string[] | { problem: string };
}

export interface Resolution {
  /** Render items; their value Buffers are fresh copies the caller wipes (`wipeItems`). */
  readonly items: RenderItem[];
  readonly problems: VariableProblem[];
  /** For each item with a value: the byte ranges [start, end) of it that came from references (the secrets). */
  readonly secretRanges: ReadonlyMap<string, readonly (readonly [number, number])[]>;
}

export function resolveEntries(entries: readonly TemplateEntry[], source: ValueSource): Resolution {
  const items: RenderItem[] = [];
  const problems: VariableProblem[] = [];
  const secretRanges = new Map<string, [number, number][]>();
  for (const entry of entries) {
    const chunks: Buffer[] = [];
    const ranges: [number, number][] = [];
    let size = 0;
    let problem: VariableProblem | undefined;
    for (const part of entry.parts) {
      if (part.kind === 'text') {
        const text = Buffer.from(part.text, 'utf8');
        chunks.push(text);
        size += text.length;
        continue;
      }
      const found = source.lookup(part.ref);
      if (Buffer.isBuffer(found)) {
        chunks.push(found);
        ranges.push([size, size + found.length]);
        size += found.length;
      } else {
        problem = { key: entry.key, reference: part.ref.raw, problem: found.problem };
        break;
      }
    }
    if (problem) {
      problems.push(problem);
      items.push({ key: entry.key, problem: problem.problem });
    } else {
      items.push({ key: entry.key, value: Buffer.concat(chunks) });
      secretRanges.set(entry.key, ranges);
    }
  }
  return { items, problems, secretRanges };
}

export function wipeItems(items: readonly RenderItem[]): void {
  for (const item of items) if ('value' in item) item.value.fill(0);
}
