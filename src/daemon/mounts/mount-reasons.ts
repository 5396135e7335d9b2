/**
 * What `status` says of a mount that is not serving, and why: every reason string of a mount's state is here, so
 * that one file shows what a user reads. (A directory other users can write is explained by
 * core/shared-directory.ts, which `doctor` shares; a template's error by templates/.)
 */
import { join } from 'node:path';

/** What `status` says of a mount whose project directory went away (the healer brings it back with it). */
export function directoryGoneReason(dir: string): string {
  return `the project directory ${dir} is gone; the mount comes back with it (or run \`envmount remove ${dir}\`).`;
}

/**
 * What `status` says of a displaced mount: what is there, that it is untouched, and how to go on. `import` takes
 * only a regular DIR/.env, and needs `--merge` next to a template (`hasTemplate`), as doctor advises.
 */
export function displacedReason(path: string, dir: string, what: string, hasTemplate: boolean): string {
  const back = `${what} was put at ${path}; envmount left it untouched and stepped aside. Move it away and the mount comes back by itself`;
  if (what !== 'a regular file' || path !== join(dir, '.env')) return `${back}.`;
  return `${back}, or run \`envmount import ${dir}${hasTemplate ? ' --merge' : ''}\` to move its values into the store.`;
}

/** What `status` says when the mount thread saw its pipe replaced by something envmount did not make. */
export function replacedReason(path: string, dir: string): string {
  return `something envmount did not make replaced the pipe at ${path}; it was left untouched. Move it away, then run \`envmount add ${dir}\`.`;
}

/** What `status` says when the mount thread found its path or directory gone (the healer brings it back). */
export function pathGoneReason(path: string, dir: string): string {
  return `${path} or its directory is gone; the mount comes back when they are (or run \`envmount remove ${dir}\`).`;
}

/** What `status` says when a system call of the mount thread failed (errno names only). */
export function servingFailedReason(syscall: string | undefined, code: string | undefined): string {
  return `serving failed: ${syscall ?? 'system call'} returned ${code ?? 'an error'}.`;
}

/** What `status` says of a serving mount whose pipe it finds gone (the healer puts it back). */
export function pipeRemovedReason(path: string): string {
  return `the pipe at ${path} was removed; it is put back within a second.`;
}

/** What `status` says of a FUSE mount someone else unmounted (the healer mounts it again on its placeholder). */
export function unmountedReason(path: string, dir: string): string {
  return `${path} was unmounted by someone else; it is mounted again within a second (or run \`envmount remove ${dir}\`).`;
}
