/**
 * Renders resolved variables as dotenv bytes that round-trip byte-exact through `node --env-file` and the `dotenv`
 * package. Values stay in Buffers: the output is built in one zero-filled allocation the caller wipes after use.
 *
 * Quoting, chosen per value from what the readers in docs/compat.md do (measured by test/compat):
 * - single quotes: raw bytes, newlines included; used unless the value holds `'` or CR (every reader but direnv,
 *   which takes no multi-line value, reads them literally; Vite and Next still expand `$NAME` in them);
 * - double quotes, raw: when the value holds `'` but no `"`, backslash, `$`, backtick or line break: every reader
 *   that reads the mount, bash and direnv included, reads them literally;
 * - backticks: raw as well; used when the value holds `'` and one of those but no backtick and no CR (node and
 *   the dotenv family only: python-dotenv, bash and direnv have no backtick quoting);
 * - double quotes, newlines written as `\n`: when the value holds both `'` and a backtick but no `"` or backslash;
 * - otherwise no dotenv reader can represent the value; it is written single-quoted and reported as a warning.
 */
export type RenderItem =
  | { readonly key: string; readonly value: Buffer }
  | { readonly key: string; readonly problem: string };

export interface Rendered {
  readonly content: Buffer;
  /** Keys whose value no dotenv reader reads back exactly (names only). */
  readonly unrepresentable: readonly string[];
}

const SINGLE = 0x27;
const BACKTICK = 0x60;
const DOUBLE = 0x22;
const BACKSLASH = 0x5c;
const CR = 0x0d;
const LF = 0x0a;

type Style = 'single' | 'double-plain' | 'backtick' | 'double' | 'lossy';

const NOT_PLAIN_IN_DOUBLE = [DOUBLE, BACKSLASH, 0x24 /* $ */, BACKTICK, LF, CR];

export function quoteStyle(value: Buffer): Style {
  const cr = value.includes(CR);
  if (!cr && !value.includes(SINGLE)) return 'single';
  if (!NOT_PLAIN_IN_DOUBLE.some((byte) => value.includes(byte))) return 'double-plain';
  if (!cr && !value.includes(BACKTICK)) return 'backtick';
  if (!cr && !value.includes(DOUBLE) && !value.includes(BACKSLASH)) return 'double';
  return 'lossy';
}

function countByte(value: Buffer, byte: number): number {
  let n = 0;
  for (let i = value.indexOf(byte); i !== -1; i = value.indexOf(byte, i + 1)) n++;
  return n;
}

function commentLine(key: string, problem: string): string {
  return `# ${key} is not available: ${problem.replace(/[\r\n]+/g, ' ')}\n`;
}

export function renderDotenv(items: readonly RenderItem[]): Rendered {
  const unrepresentable: string[] = [];
  const styles: Style[] = [];
  let size = 0;
  for (const item of items) {
    if ('problem' in item) {
      size += Buffer.byteLength(commentLine(item.key, item.problem));
      styles.push('lossy');
      continue;
    }
    const style = quoteStyle(item.value);
    styles.push(style);
    if (style === 'lossy') unrepresentable.push(item.key);
    const extra = style === 'double' ? countByte(item.value, LF) : 0;
    size += Buffer.byteLength(item.key) + 4 + item.value.length + extra;
  }
  const out = Buffer.alloc(size);
  let at = 0;
  items.forEach((item, index) => {
    if ('problem' in item) {
      at += out.write(commentLine(item.key, item.problem), at);
      return;
    }
    const style = styles[index];
    const quote = style === 'backtick' ? BACKTICK : style === 'double' || style === 'double-plain' ? DOUBLE : SINGLE;
    at += out.write(item.key, at);
    out[at++] = 0x3d; // =
    out[at++] = quote;
    if (style === 'double') {
      for (const byte of item.value) {
        if (byte === LF) {
          out[at++] = BACKSLASH;
          out[at++] = 0x6e; // n
        } else {
          out[at++] = byte;
        }
      }
    } else {
      at += item.value.copy(out, at);
    }
    out[at++] = quote;
    out[at++] = LF;
  });
  return { content: out, unrepresentable };
}
