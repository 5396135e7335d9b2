/** The backends a mount can have, by the registry's `backend` field (absent: `fifo`). Adding one: its file here
 * and a line below. */
import { EnvmountError } from '../../../core/errors.js';
import type { BackendKind } from '../../../core/mount-backends.js';
import type { MountRecord } from '../registry.js';
import type { BackendDeps, BackendFactory, BackendSignals, MountBackend } from './backend.js';
import { FifoBackend } from './fifo.js';
import { FuseBackend, fuseUnavailable, fuseUnavailableError } from './fuse.js';

const FACTORIES: Record<BackendKind, BackendFactory> = {
  fifo: (record, deps, signals) => new FifoBackend(record, deps, signals),
  fuse: (record, deps, signals) => new FuseBackend(record, deps, signals),
};

/** Why a backend cannot serve on this machine (what it needs), or undefined. */
const UNAVAILABLE: Record<BackendKind, () => string | undefined> = {
  fifo: () => undefined,
  fuse: () => (process.platform === 'linux' ? fuseUnavailable() : 'FUSE mounts are made on Linux only'),
};

export function backendOf(record: MountRecord): BackendKind {
  return record.backend ?? 'fifo';
}

export function createBackend(record: MountRecord, deps: BackendDeps, signals: BackendSignals): MountBackend {
  return FACTORIES[backendOf(record)](record, deps, signals);
}

export function backendUnavailable(kind: BackendKind): string | undefined {
  return UNAVAILABLE[kind]();
}

/** Before `add` touches anything: the backend of the mount (`asked`, or for a new mount the user's default), which
 * must be the mount's own (an existing one keeps its backend) and able to serve here (MOUNT_EXISTS,
 * FUSE_UNAVAILABLE). Undefined: an existing mount's own, or `fifo`. */
export function chooseBackend(
  path: string,
  dir: string,
  options: { readonly backend?: BackendKind | undefined; readonly defaultBackend?: BackendKind | undefined },
  existing: BackendKind | undefined,
): BackendKind | undefined {
  const wanted = options.backend ?? (existing ? undefined : options.defaultBackend);
  if (existing && wanted && wanted !== existing)
    throw new EnvmountError(
      'MOUNT_EXISTS',
      `"${path}" is mounted with the ${existing} backend. Run \`envmount remove ${dir}\`, then \`envmount add ${dir} --backend ${wanted}\`.`,
    );
  const missing = !existing && wanted ? backendUnavailable(wanted) : undefined;
  if (missing) throw fuseUnavailableError(path, dir, missing);
  return wanted;
}
