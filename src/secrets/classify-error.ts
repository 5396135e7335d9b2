/**
 * Reads 1Password error text against the table in onepassword-errors.ts. Names never reach a comparison: op's
 * quoted names are blanked first (they are only read back to tell which reference failed), and every comparison is
 * a fixed prefix, suffix or phrase of the client's own words. No pattern runs over the text.
 */
import type { ErrorEntry } from './onepassword-errors.js';

/** The pieces between double quotes: even ones are the client's words, odd ones are names. */
function pieces(message: string): string[] {
  return message.split('"');
}

/** The message with every quoted name blanked (`"locked-box"` becomes `""`). */
export function blankNames(message: string): string {
  return pieces(message)
    .map((piece, i) => (i % 2 === 1 ? '' : piece))
    .join('"');
}

/** The quoted names in a message (what op says it could not find). */
export function quotedNames(message: string): string[] {
  return pieces(message).filter((_, i) => i % 2 === 1);
}

/** The first line of op's stderr without its `[ERROR] YYYY/MM/DD HH:MM:SS ` prefix, at most 500 characters. */
export function opMessage(stderr: string): string {
  const line = (stderr.split('\n').find((l) => l.trim() !== '') ?? '').trim();
  const words = line.split(' ');
  return (words[0] === '[ERROR]' && words.length > 3 ? words.slice(3).join(' ') : line).slice(0, 500);
}

function matches(entry: ErrorEntry, text: string): boolean {
  const lower = text.toLowerCase().trim();
  const end = lower.endsWith('.') ? lower.slice(0, -1) : lower;
  if (entry.prefix !== undefined) return lower.startsWith(entry.prefix.toLowerCase());
  if (entry.suffix !== undefined) return end.endsWith(entry.suffix.toLowerCase());
  return entry.phrase !== undefined && lower.includes(entry.phrase.toLowerCase());
}

/** The entry of `table` a message is, or undefined. */
export function classify(table: readonly ErrorEntry[], message: string): ErrorEntry | undefined {
  const text = blankNames(message);
  return table.find((entry) => matches(entry, text));
}

/** The message an entry stands for, as the client emits it (what the fakes emit). */
export function exampleOf(entry: ErrorEntry): string {
  return entry.example ?? entry.prefix ?? entry.suffix ?? entry.phrase ?? '';
}

/** An entry by id. */
export function entryById(table: readonly ErrorEntry[], id: string): ErrorEntry {
  const found = table.find((e) => e.id === id);
  if (!found) throw new Error(`no 1Password error entry "${id}"`);
  return found;
}
