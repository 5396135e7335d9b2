/**
 * Reads the dotenv text of a plaintext `.env` (for `envmount import`) into names and value Buffers, with the
 * conventions the renderer writes: quotes, `export`, comments, multi-line quoted values.
 */
export function parseDotenv(text: Buffer): Array<{ key: string; value: Buffer }> {
  const src = text.toString('utf8').replace(/\r\n?/g, '\n');
  const out: Array<{ key: string; value: Buffer }> = [];
  const line = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*/gm;
  let match = line.exec(src);
  while (match !== null) {
    const start = line.lastIndex;
    const quote = src[start];
    let value: string;
    let end: number;
    const close = quote === "'" || quote === '"' || quote === '`' ? src.indexOf(quote, start + 1) : -1;
    if (close !== -1) {
      value = src.slice(start + 1, close);
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
      end = src.indexOf('\n', close);
    } else {
      end = src.indexOf('\n', start);
      const raw = src.slice(start, end === -1 ? undefined : end);
      const comment = raw.search(/[ \t]#|^#/);
      value = (comment === -1 ? raw : raw.slice(0, comment)).trim();
    }
    out.push({ key: match[1] ?? '', value: Buffer.from(value, 'utf8') });
    line.lastIndex = end === -1 ? src.length : end;
    match = line.exec(src);
  }
  return out;
}
