/** Changing a mount's reader policy: stored in the registry, applied to the mount thread from the next reader on. */
import { DEFAULT_POLICY, needsNoDecision, type Policy } from '../../core/policy.js';
import { applyPolicyOptions, type PolicyOptions } from '../../core/policy-edit.js';
import type { MountServiceDeps } from './mount-deps.js';
import type { Entry } from './mount-entry.js';

type Deps = Pick<MountServiceDeps, 'registry' | 'gate'>;

export async function storePolicy(entry: Entry, policy: Policy, deps: Deps): Promise<void> {
  await deps.registry.put({ ...entry.mount.record, policy, format: entry.format });
  entry.policy = policy;
  entry.mount.setDecide(!needsNoDecision(policy));
}

/** Applies `--allow/--deny/--remove/--otherwise/--agents/--reset`; returns the warnings. `--reset` drops grants too. */
export async function changePolicy(
  entry: Entry,
  options: PolicyOptions,
  deps: Deps,
  warnings: string[] = [],
): Promise<string[]> {
  const base = options.reset ? DEFAULT_POLICY : entry.policy;
  await storePolicy(entry, applyPolicyOptions(base, options, entry.mount.record.dir, warnings), deps);
  if (options.reset) deps.gate.clearGrants(entry.mount.path);
  return warnings;
}
