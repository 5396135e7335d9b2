/**
 * `envmount run`: the values for a child's environment, to the process on the other end of the control socket,
 * if the reader policy lets that process read them. The values come from the mount of the project directory (its
 * template or Environment), or from env files and an Environment the user names; they are resolved from the same
 * cache as the mounts. Dangerous names are refused before any value leaves; every outcome is audited.
 */
import type { Params, RunValues } from '../../control/protocol.js';
import type { Peer } from '../../control/server.js';
import { refusedNames } from '../../core/dangerous-env.js';
import { EnvmountError } from '../../core/errors.js';
import { DEFAULT_POLICY, type Policy } from '../../core/policy.js';
import { environmentReference } from '../../core/reference.js';
import type { TemplateEntry } from '../../core/template.js';
import { resolveEntries, type ValueSource, wipeItems } from '../../secrets/resolve.js';
import type { MountService } from '../mounts/mounts.js';
import { type AuditLog, auditReader } from '../readers/audit.js';
import { describeProcess } from '../readers/process-info.js';
import { factsOf } from '../readers/reader-facts.js';
import type { ReaderGate } from '../readers/reader-gate.js';
import { opReferencesOf, validateOpReferences } from '../templates/template-references.js';
import { readTemplate } from '../templates/templates.js';
import { runReader } from './run-command-check.js';

/** How long references only `envmount run` uses stay resolved after the last run that used them. */
export const RUN_LEASE_MS = 15 * 60_000;

export interface RunDeps {
  readonly mounts: MountService;
  readonly source: ValueSource;
  readonly gate: ReaderGate;
  readonly audit: AuditLog;
  readonly validate: (reference: string) => string | undefined;
  /** The real paths of envmount's CLI scripts (run-command-check.ts). */
  readonly cliScripts: readonly string[];
}

interface Plan {
  /** What the policy is checked against: the mount's own template under its policy, else the named source with `ask`. */
  readonly target: { readonly path: string; readonly dir: string; readonly policy: Policy; readonly template?: string };
  readonly source: string;
  readonly entries: readonly TemplateEntry[];
  readonly environments: readonly string[];
}

async function readEnvFile(path: string): Promise<TemplateEntry[]> {
  try {
    return await readTemplate(path);
  } catch (error) {
    if (error instanceof EnvmountError && error.code === 'TEMPLATE_MISSING') {
      const problem = error.cause instanceof Error ? error.cause.message : 'it cannot be read';
      throw new EnvmountError(
        'NOT_FOUND',
        `Cannot use the env file "${path}": ${problem}. Check the --env-file path.`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

async function plan(params: Params<'run'>, deps: RunDeps): Promise<Plan> {
  const mount = deps.mounts.mountFor(params.dir);
  const envFiles = params.envFiles ?? [];
  const environments = params.environment ? [params.environment] : [];
  if (envFiles.length === 0 && environments.length === 0) {
    if (!mount) {
      throw new EnvmountError(
        'NOT_A_MOUNT',
        `No mount covers "${params.dir}". Run \`envmount add ${params.dir}\`, or name the values with --env-file FILE or --environment ID.`,
      );
    }
    const { record } = mount.mount;
    if ('error' in mount.template) throw new EnvmountError('TEMPLATE_PARSE', mount.template.error);
    return {
      target: { path: record.path, dir: record.dir, policy: mount.policy, template: record.template },
      source: record.template,
      entries: mount.template.entries,
      environments: record.environment ? [record.environment] : [],
    };
  }
  const entries: TemplateEntry[] = [];
  for (const file of envFiles) {
    const fileEntries = await readEnvFile(file);
    validateOpReferences(file, fileEntries, deps.validate);
    entries.push(...fileEntries);
  }
  const source = [...environments.map((id) => `1Password Environment ${id}`), ...envFiles].join(', ');
  // A covering mount's policy speaks for the values of its own template only (`--env-file` naming that very
  // file): values from any other file or an Environment are asked about, whatever mount the directory has.
  const own = mount && environments.length === 0 && envFiles.every((file) => file === mount.mount.record.template);
  const target = own
    ? { path: mount.mount.record.path, dir: mount.mount.record.dir, policy: mount.policy }
    : { path: source, dir: params.dir, policy: DEFAULT_POLICY };
  return { target, source, entries, environments };
}

/** The Environment's variables as entries (they come first: env files override them). */
function environmentEntries(id: string, source: ValueSource): TemplateEntry[] {
  const names = source.environmentNames(id);
  if (!Array.isArray(names)) throw new EnvmountError('UNRESOLVED', `Cannot run: ${names.problem}.`);
  return names.map((key) => ({ key, line: 0, parts: [{ kind: 'ref', ref: environmentReference(id, key) }] }));
}

export async function runValues(params: Params<'run'>, peer: Peer, deps: RunDeps): Promise<RunValues> {
  const peerInfo = describeProcess(peer.pid);
  if (!peerInfo) throw new EnvmountError('FORBIDDEN', `Cannot identify the requesting process (pid ${peer.pid}).`);
  // Judged on the command it will run, never on envmount's own node (run-command-check.ts).
  const { reader, processes } = runReader(peerInfo, params.command, deps.cliScripts);
  const { target, source, entries, environments } = await plan(params, deps);
  const verdict = await deps.gate.authorize(target, reader, factsOf(reader, processes));
  if (!verdict.allowed) {
    deps.audit.record({
      mount: target.path,
      decision: verdict.decision,
      reason: `envmount run: ${verdict.why}`,
      bytes: 0,
      reader: auditReader(reader),
      others: [],
      rule: verdict.basis,
    });
    throw new EnvmountError(
      'FORBIDDEN',
      `envmount run of ${source} refused: ${verdict.why}. To allow it: ${verdict.fix}.`,
    );
  }
  await deps.mounts.lease(opReferencesOf([{ entries: [...entries] }]), environments, RUN_LEASE_MS);
  const all = [...environments.flatMap((id) => environmentEntries(id, deps.source)), ...entries];
  // Later entries win (env files in order), as with repeated `--env-file` in node and `op run`.
  const last = new Map(all.map((entry) => [entry.key, entry]));
  const refused = refusedNames([...last.keys()], params.allowDangerous ?? []);
  if (refused.length > 0) {
    throw new EnvmountError(
      'DANGEROUS_NAME',
      `Refusing to set ${refused.join(', ')} from ${source}: ${refused.length > 1 ? 'these change' : 'it changes'} which code programs load. If you mean it, add ${refused.map((n) => `--allow-dangerous ${n}`).join(' ')}.`,
    );
  }
  const { items, problems, secretRanges } = resolveEntries([...last.values()], deps.source);
  try {
    if (problems.length > 0) {
      const list = problems.map((p) => `${p.key}: ${p.problem}`).join('; ');
      throw new EnvmountError(
        'UNRESOLVED',
        `Cannot run: ${problems.length} of ${items.length} variables have no value: ${list}.`,
      );
    }
    let bytes = 0;
    const variables = items.flatMap((item) => {
      if (!('value' in item)) return [];
      bytes += item.value.length;
      return [
        { name: item.key, valueBase64: item.value.toString('base64'), secretRanges: secretRanges.get(item.key) ?? [] },
      ];
    });
    deps.audit.record({
      mount: target.path,
      decision: 'allowed',
      reason: 'envmount run',
      bytes,
      reader: auditReader(reader),
      others: [],
      rule: verdict.basis,
    });
    return { source, variables };
  } finally {
    wipeItems(items);
  }
}
