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
