/**
 * A window dump (`xwd`, X Window Dump format 7) as a PNG, for screenshots of real dialogs under Xvfb without
 * ImageMagick. Handles what Xvfb gives: ZPixmap, TrueColor, 24 or 32 bits per pixel, either byte order.
 */
import { crc32, deflateSync } from 'node:zlib';

export interface Image {
  readonly width: number;
  readonly height: number;
  /** RGB, 3 bytes a pixel, rows top to bottom. */
  readonly rgb: Buffer;
}

export function parseXwd(dump: Buffer): Image {
  const field = (index: number) => dump.readUInt32BE(index * 4);
  const [headerSize, version, format] = [field(0), field(1), field(2)];
  if (version !== 7 || format !== 2) throw new Error(`not a ZPixmap XWD dump (version ${version}, format ${format})`);
  const [width, height, byteOrder, bitsPerPixel, bytesPerLine] = [field(4), field(5), field(7), field(11), field(12)];
  const masks = [field(14), field(15), field(16)];
  const colors = field(19);
  if (bitsPerPixel !== 32 && bitsPerPixel !== 24) throw new Error(`unsupported ${bitsPerPixel} bits per pixel`);
  const start = headerSize + colors * 12;
  const step = bitsPerPixel / 8;
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = start + y * bytesPerLine + x * step;
      let pixel = 0;
      for (let b = 0; b < step; b++) {
        const byte = dump[at + (byteOrder === 0 ? step - 1 - b : b)] ?? 0;
        pixel = pixel * 256 + byte;
      }
      masks.forEach((mask, channel) => {
        const shift = Math.log2(mask & -mask);
        rgb[(y * width + x) * 3 + channel] = Math.floor((pixel & mask) / 2 ** shift) & 0xff;
      });
    }
  }
  return { width, height, rgb };
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

export function toPng(image: Image): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(image.width, 0);
  header.writeUInt32BE(image.height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits a channel, RGB, deflate, no filter method, no interlace
  const rowBytes = image.width * 3;
  const raw = Buffer.alloc((rowBytes + 1) * image.height);
  for (let y = 0; y < image.height; y++) image.rgb.copy(raw, y * (rowBytes + 1) + 1, y * rowBytes, (y + 1) * rowBytes);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** How many distinct colours an image has (a blank or unpainted window has one or two). */
export function colourCount(image: Image): number {
  const seen = new Set<number>();
  for (let i = 0; i < image.rgb.length; i += 3) seen.add(image.rgb.readUIntBE(i, 3));
  return seen.size;
}
