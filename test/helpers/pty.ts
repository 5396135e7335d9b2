/** The CLI in a pseudo-terminal, as a person at a terminal runs it: output as bytes, keys in, exit awaited. */
import { type IPty, spawn } from 'node-pty';
import { CLI } from './daemon.js';

export interface PtySession {
  readonly pty: IPty;
  /** Everything the terminal showed so far. */
  output(): string;
  /** Resolves when the output contains `text` (rejects after `timeoutMs`). */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  readonly exit: Promise<{ exitCode: number; signal?: number }>;
}

const sessions = new Set<IPty>();

export function ptyCli(
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; cols?: number; rows?: number },
): PtySession {
  const pty = spawn(CLI, [...args], {
    cwd: options.cwd,
    env: { ...options.env, TERM: 'xterm-256color' },
    cols: options.cols ?? 100,
    rows: options.rows ?? 30,
    encoding: null,
  });
  sessions.add(pty);
  let out = Buffer.alloc(0);
  const watchers = new Set<() => void>();
  pty.onData((chunk) => {
    out = Buffer.concat([out, chunk as unknown as Buffer]);
    for (const watcher of watchers) watcher();
  });
  const exit = new Promise<{ exitCode: number; signal?: number }>((resolve) =>
    pty.onExit((e) => {
      sessions.delete(pty);
      resolve(e);
    }),
  );
  return {
    pty,
    output: () => out.toString('utf8'),
    waitFor: (text, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!out.includes(text)) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`"${text}" did not appear; the terminal showed:\n${out.toString('utf8')}`));
        }, timeoutMs);
        watchers.add(check);
        check();
      }),
    exit,
  };
}

/** Kills every pty session still running (SIGKILL to its whole process group through the pty). */
export function killPtys(): void {
  for (const pty of sessions) {
    try {
      pty.kill('SIGKILL');
    } catch {}
  }
  sessions.clear();
}
