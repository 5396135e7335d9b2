/**
 * Building one mount's entry: the Mount with its hooks (served reads to the audit log, readers to the gate), its
 * policy, and the watch on its template. The MountService owns the entries this returns.
 */
import { DEFAULT_POLICY, needsNoDecision, type Policy } from '../../core/policy.js';
import type { Format } from '../../core/render-formats.js';
import type { MountEvent } from '../../native/index.js';
import type { VariableProblem } from '../../secrets/resolve.js';
import { auditUndecidedRead } from '../readers/read-outcome.js';
import type { GatedMount } from '../readers/reader-gate.js';
import { watchTemplate } from '../templates/template-watch.js';
import type { LoadedTemplate } from '../templates/templates.js';
import type { OpenRequest } from './backends/backend.js';
import { FuseOpens } from './fuse-opens.js';
import { Mount } from './mount.js';
import type { MountServiceDeps } from './mount-deps.js';
import type { MountRecord } from './registry.js';
import { hasTemplateFile } from './template-source.js';

export interface Entry {
  readonly mount: Mount;
  /** Stops watching the template (set while the mount exists). */
  unwatch: () => void;
  /** Watches the template again (after its directory came back). */
  rewatch: () => void;
  /** Settles once the template watch sees changes (see TemplateWatch.ready). */
  watching: Promise<void>;
  policy: Policy;
  format: Format;
  collisions: number;
  /** Shared pipes whose readers read in pieces: nothing written (native/share.c). */
  withheld: number;
  template: LoadedTemplate;
  problems: VariableProblem[];
  /** Variables not served: the format cannot carry their value safely (names and reasons, never values). */
  refused: readonly { key: string; reason: string }[];
  unmasked: readonly string[];
  readerLimits: readonly { key: string; note: string }[];
}

export interface EntryCallbacks {
  /** The bytes an allowed reader gets now (the caller wipes them). */
  readonly render: (entry: Entry) => Buffer;
  readonly templateChanged: () => void;
  /** The watcher saw the path of this entry's mount change: heal soon. */
  readonly look: (entry: Entry) => void;
}

function gated(entry: Entry, render: EntryCallbacks['render']): GatedMount {
  return {
    path: entry.mount.path,
    dir: entry.mount.record.dir,
    policy: entry.policy,
    template: hasTemplateFile(entry.mount.record) ? entry.mount.record.template : undefined,
    render: () => render(entry),
    noteCollision: () => {
      entry.collisions++;
    },
    noteWithheld: () => {
      entry.withheld++;
    },
  };
}

export function createEntry(
  record: MountRecord,
  template: LoadedTemplate,
  deps: MountServiceDeps,
  callbacks: EntryCallbacks,
): Entry {
  const { audit, gate, logger } = deps;
  // FUSE opens (decided per open, audited at release); unused by a FIFO mount.
  const opens = new FuseOpens({ gate, audit, logger });
  const hooks = {
    // The end of every read: a decided read's is audited by the gate, a policy `any` read's here.
    onOutcome: (event: MountEvent) => {
      if (gate.finished(record.path, event)) return;
      if (auditUndecidedRead(audit, record.path, event).withheld) entry.withheld++;
    },
    onForeign: () => {
      audit.record({
        mount: record.path,
        decision: 'foreign',
        outcome: 'refused',
        reason: 'a rotation found a pipe another user put at its name; nothing was written to it',
        bytes: 0,
        reader: undefined,
        others: [],
      });
    },
    onReader: (event: MountEvent) => {
      gate
        .handle(gated(entry, callbacks.render), event)
        .catch((error: unknown) => logger.error({ err: error }, 'reader decision failed'));
    },
    onLook: () => callbacks.look(entry),
    onOpen: (open: OpenRequest) => void opens.answer(gated(entry, callbacks.render), open),
    onServed: (reader: { readonly tgid: number }) => opens.served(record.path, reader.tgid),
    onReleased: (read: { readonly tgid: number; readonly bytes: number; readonly whole: boolean }) =>
      opens.released(read),
    onForeignRead: (read: { readonly tgid: number; readonly openerPid: number }) =>
      opens.foreignRead(record.path, read),
    onStopped: () => opens.stopped(),
  };
  const entry: Entry = {
    mount: new Mount(record, deps, hooks),
    unwatch: () => undefined,
    rewatch: () => {
      entry.unwatch();
      if (!hasTemplateFile(record)) return;
      const watch = watchTemplate(record.template, callbacks.templateChanged);
      entry.unwatch = watch.stop;
      entry.watching = watch.ready;
    },
    watching: Promise.resolve(),
    policy: record.policy ?? DEFAULT_POLICY,
    format: record.format ?? 'dotenv',
    collisions: 0,
    withheld: 0,
    template,
    problems: [],
    refused: [],
    unmasked: [],
    readerLimits: [],
  };
  entry.mount.setDecide(!needsNoDecision(entry.policy));
  entry.rewatch();
  return entry;
}

/** The mount of a project directory: the one whose directory is `dir` or its nearest ancestor. */
export function mountCovering(entries: Iterable<Entry>, dir: string): Entry | undefined {
  let best: Entry | undefined;
  for (const entry of entries) {
    const root = entry.mount.record.dir;
    const inside = dir === root || dir.startsWith(root.endsWith('/') ? root : `${root}/`);
    if (inside && (!best || root.length > best.mount.record.dir.length)) best = entry;
  }
  return best;
}
