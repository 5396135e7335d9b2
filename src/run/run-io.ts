/** The parent's side of `envmount run`: our streams and where signals to us arrive (src/bin passes the process). */
export interface RunIo {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly signals: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
}

/** The signals a wrapper passes on: a supervisor's stop (TERM), a closed terminal (HUP), an interrupt (INT). */
export const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type ForwardedSignal = (typeof FORWARDED)[number];

/** Calls `forward` for each forwarded signal until the returned function is called (idempotent). */
export function forwardSignals(io: RunIo, forward: (signal: ForwardedSignal) => void): () => void {
  const handlers = FORWARDED.map((signal) => [signal, () => forward(signal)] as const);
  for (const [signal, handler] of handlers) io.signals.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) io.signals.off(signal, handler);
  };
}
