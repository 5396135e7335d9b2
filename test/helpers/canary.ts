/** Searches regular files under directories for a byte string; never opens FIFOs, sockets or devices. */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function filesContaining(
  roots: readonly string[],
  needles: readonly Buffer[],
  maxBytes = 8 * 1024 * 1024,
): string[] {
  const hits: string[] = [];
  const visit = (path: string) => {
    let info: ReturnType<typeof lstatSync>;
    try {
      info = lstatSync(path);
    } catch {
      return;
    }
    if (info.isDirectory()) {
      let names: string[] = [];
      try {
        names = readdirSync(path);
      } catch {
        return;
      }
      for (const name of names) visit(join(path, name));
    } else if (info.isFile() && info.size <= maxBytes) {
      let data: Buffer;
      try {
        data = readFileSync(path);
      } catch {
        return;
      }
      if (needles.some((needle) => data.includes(needle))) hits.push(path);
    }
  };
  for (const root of roots) visit(root);
  return hits;
}
