/** The ways a mount can serve its path: a named pipe per read (`fifo`, the default) or a regular file served by
 * the daemon through FUSE (`fuse`, Linux). Old registries without a backend are `fifo`. */
export const BACKENDS = ['fifo', 'fuse'] as const;
export type BackendKind = (typeof BACKENDS)[number];

export function isBackend(text: string): text is BackendKind {
  return (BACKENDS as readonly string[]).includes(text);
}
