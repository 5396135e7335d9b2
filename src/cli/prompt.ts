/**
 * Reading a secret without echo. From a terminal: a hidden prompt on stderr, raw mode, Enter ends, Ctrl-C aborts.
 * Otherwise all of stdin. Bytes are collected in Buffers and the intermediate ones wiped.
 */
import type { Readable, Writable } from 'node:stream';
import { EnvmountError } from '../core/errors.js';

export interface PromptStreams {
  readonly input: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly output: Writable;
}

function concatWiping(chunks: Buffer[]): Buffer {
  const out = Buffer.concat(chunks);
  for (const chunk of chunks) chunk.fill(0);
  return out;
}

async function readAll(input: Readable, raw: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const all = concatWiping(chunks);
  if (raw) return all;
  // `echo value | envmount set NAME` adds one newline the user did not mean as part of the value.
  const trim = all.at(-1) === 0x0a ? (all.at(-2) === 0x0d ? 2 : 1) : 0;
  const value = Buffer.from(all.subarray(0, all.length - trim));
  all.fill(0);
  return value;
}

function readHidden(streams: PromptStreams, prompt: string): Promise<Buffer> {
  const { input, output } = streams;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    output.write(prompt);
    input.setRawMode?.(true);
    input.resume();
    const finish = (error?: Error) => {
      input.setRawMode?.(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (error) {
        for (const chunk of chunks) chunk.fill(0);
        reject(error);
      } else {
        resolve(concatWiping(chunks));
      }
    };
    const onData = (data: Buffer) => {
      for (let i = 0; i < data.length; i++) {
        const byte = data[i];
        if (byte === 0x0d || byte === 0x0a) return finish();
        if (byte === 0x03) return finish(new EnvmountError('USAGE', 'Cancelled; nothing was stored.'));
        if (byte === 0x7f || byte === 0x08) {
          const last = chunks.at(-1);
          if (last) {
            last.fill(0);
            chunks.pop();
          }
        } else {
          chunks.push(Buffer.from([byte ?? 0]));
        }
      }
      data.fill(0);
    };
    input.on('data', onData);
  });
}

export function secretReader(streams: PromptStreams) {
  return (prompt: string, options: { raw: boolean }): Promise<Buffer> =>
    streams.input.isTTY ? readHidden(streams, prompt) : readAll(streams.input, options.raw);
}

/** Reads one line from the terminal after printing `question`; true for y or yes. */
export function confirmer(streams: PromptStreams) {
  return (question: string): Promise<boolean> =>
    new Promise((resolve) => {
      const { input, output } = streams;
      output.write(question);
      let line = '';
      const onData = (data: Buffer) => {
        line += data.toString('utf8');
        if (!line.includes('\n') && !line.includes('\r')) return;
        input.off('data', onData);
        input.pause();
        resolve(/^\s*y(es)?\s*$/i.test(line.split(/[\r\n]/)[0] ?? ''));
      };
      input.on('data', onData);
      input.resume();
    });
}
