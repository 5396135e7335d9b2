/**
 * The template format (`.env.op` / `.env.tpl`): dotenv lines whose values are literals, references, or text with
 * `{{ reference }}` inside. Single- and backtick-quoted values are literal; double-quoted and bare values may hold
 * references. A template holds no secret values, only where to find them.
 */
import { EnvmountError } from './errors.js';
import { likelyTypoOf, parseReference, type Reference, schemeOf } from './reference.js';

export type Part = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'ref'; readonly ref: Reference };

export interface TemplateEntry {
  readonly key: string;
  readonly line: number;
  readonly parts: readonly Part[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const DOUBLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"', $: '$' };

class Cursor {
  pos = 0;
  line = 1;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  next(): string {
    const ch = this.text[this.pos++] ?? '';
    if (ch === '\n') this.line++;
    return ch;
  }
  restOfLine(): string {
    const end = this.text.indexOf('\n', this.pos);
    const stop = end === -1 ? this.text.length : end;
    const rest = this.text.slice(this.pos, stop);
    this.pos = stop;
    return rest;
  }
}

function fail(file: string, line: number, problem: string): never {
  throw new EnvmountError('TEMPLATE_PARSE', `${file}:${line}: ${problem}`);
}

function readQuoted(cur: Cursor, file: string, quote: string): string {
  const startLine = cur.line;
  cur.next();
  let out = '';
  for (;;) {
    if (cur.done) fail(file, startLine, `the value opened with ${quote} is never closed. Add the closing ${quote}.`);
    const ch = cur.next();
    if (ch === quote) return out;
    if (quote === '"' && ch === '\\') {
      const esc = cur.next();
      out += DOUBLE_ESCAPES[esc] ?? `\\${esc}`;
    } else {
      out += ch;
    }
  }
}

function resolveParts(value: string, file: string, line: number): Part[] {
  const trimmed = value.trim();
  const scheme = schemeOf(trimmed);
  if (scheme && !trimmed.includes('{{')) {
    if (scheme === 'op' || scheme === 'envmount' || likelyTypoOf(scheme)) {
      try {
        return [{ kind: 'ref', ref: parseReference(trimmed) }];
      } catch (error) {
        fail(
          file,
          line,
          `${(error as Error).message} Fix the reference, or single-quote the value to keep it literal.`,
        );
      }
    }
    return [{ kind: 'text', text: value }];
  }
  const parts: Part[] = [];
  let rest = value;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open === -1) break;
    const close = rest.indexOf('}}', open + 2);
    if (close === -1) fail(file, line, '"{{" is never closed. Write {{ op://vault/item/field }}.');
    if (open > 0) parts.push({ kind: 'text', text: rest.slice(0, open) });
    const raw = rest.slice(open + 2, close).trim();
    try {
      parts.push({ kind: 'ref', ref: parseReference(raw) });
    } catch (error) {
      fail(file, line, `${(error as Error).message} Inside {{ }} only op:// and envmount:// references are allowed.`);
    }
    rest = rest.slice(close + 2);
  }
  if (rest !== '' || parts.length === 0) parts.push({ kind: 'text', text: rest });
  return parts;
}

/** Parses a template. `file` is used in error messages (`file:line: problem. fix.`). */
export function parseTemplate(text: string, file: string): TemplateEntry[] {
  const cur = new Cursor(text.replace(/\r\n/g, '\n'));
  const entries: TemplateEntry[] = [];
  const seen = new Map<string, number>();
  while (!cur.done) {
    const line = cur.line;
    const head = cur.text.slice(cur.pos).match(/^[ \t]*/)?.[0] ?? '';
    cur.pos += head.length;
    if (cur.peek() === '\n') {
      cur.next();
      continue;
    }
    if (cur.peek() === '#' || cur.done) {
      cur.restOfLine();
      continue;
    }
    const lineEnd = cur.text.indexOf('\n', cur.pos);
    const match = /^(?:export[ \t]+)?([^=\s]+)[ \t]*=[ \t]*/.exec(
      cur.text.slice(cur.pos, lineEnd === -1 ? undefined : lineEnd),
    );
    if (!match) {
      fail(
        file,
        line,
        `expected KEY=value, found "${cur.restOfLine().trim().slice(0, 40)}". Write KEY=value or a # comment.`,
      );
    }
    const key = match[1] ?? '';
    if (!KEY.test(key)) {
      fail(file, line, `"${key}" is not a valid variable name. Use letters, digits and _, not starting with a digit.`);
    }
    cur.pos += match[0].length;
    const quote = cur.peek();
    let parts: Part[];
    if (quote === "'" || quote === '`' || quote === '"') {
      const value = readQuoted(cur, file, quote);
      const tail = cur.restOfLine().trim();
      if (tail !== '' && !tail.startsWith('#')) {
        fail(file, cur.line, `unexpected text after the closing ${quote}. Put comments after a #.`);
      }
      parts = quote === '"' ? resolveParts(value, file, line) : [{ kind: 'text', text: value }];
    } else {
      const raw = cur.restOfLine();
      const comment = raw.search(/[ \t]#/);
      parts = resolveParts((comment === -1 ? raw : raw.slice(0, comment)).trim(), file, line);
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) fail(file, line, `${key} is already defined on line ${earlier}. Remove one of them.`);
    seen.set(key, line);
    entries.push({ key, line, parts });
    if (cur.peek() === '\n') cur.next();
  }
  return entries;
}

/** Every reference a template uses, in order of first use. */
export function referencesOf(entries: readonly TemplateEntry[]): Reference[] {
  const out = new Map<string, Reference>();
  for (const entry of entries) {
    for (const part of entry.parts) if (part.kind === 'ref') out.set(part.ref.raw, part.ref);
  }
  return [...out.values()];
}
