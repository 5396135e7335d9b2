/**
 * The environment requests (`envmount mcp`): environments of the embedded store, and the 1Password Environments
 * mounts use. Replies name variables and say whether each is set; a value comes in (append) but never goes out.
 */
import type { EnvironmentInfo, EnvironmentVariable, Params, Results } from '../../control/protocol.js';
import { EnvmountError } from '../../core/errors.js';
import { parseReference } from '../../core/reference.js';
import type { ValueSource } from '../../secrets/resolve.js';
import type { EmbeddedStore } from '../../secrets/store.js';
import type { MountService } from '../mounts/mounts.js';
import { checkVariableName, type Environments, storeNameOf } from './environments.js';
import type { ValueWaiters } from './value-waiters.js';

export interface EnvironmentDeps {
  readonly environments: Environments;
  readonly store: EmbeddedStore;
  readonly mounts: MountService;
  readonly source: ValueSource;
  readonly waiters: ValueWaiters;
  /** The provider's check of an `op://` reference (undefined: fine, or no provider). */
  readonly validate: (reference: string) => string | undefined;
}

type EnvironmentMethod =
  | 'environments'
  | 'environmentCreate'
  | 'environmentRename'
  | 'environmentVariables'
  | 'environmentAppend'
  | 'environmentRequest';

export function environmentMethods(deps: EnvironmentDeps): {
  [M in EnvironmentMethod]: (params: Params<M>) => Promise<Results[M]> | Results[M];
} {
  const { environments, store, mounts } = deps;
  const variablesOf = (name: string): EnvironmentVariable[] =>
    environments.variables(name).map((v) => ({
      name: v.name,
      reference: v.reference,
      set: v.reference !== undefined || store.has(storeNameOf(name, v.name)),
    }));
  const info = (name: string): EnvironmentInfo => {
    const variables = variablesOf(name);
    return {
      name,
      kind: 'store',
      variables: variables.length,
      pending: variables.filter((v) => !v.set).length,
      mounts: mounts
        .list()
        .filter((m) => m.storeEnvironment === name)
        .map((m) => m.path),
    };
  };
  const onePasswordIds = () => [...new Set(mounts.list().flatMap((m) => m.onePasswordEnvironment ?? []))];
  return {
    environments: () => ({
      environments: [
        ...environments.names().map(info),
        ...onePasswordIds().map((id): EnvironmentInfo => {
          const names = deps.source.environmentNames(id);
          const count = Array.isArray(names) ? names.length : 0;
          const using = mounts.list().filter((m) => m.onePasswordEnvironment === id);
          return { name: id, kind: '1password', variables: count, pending: 0, mounts: using.map((m) => m.path) };
        }),
      ],
    }),
    environmentCreate: async (p) => {
      await environments.create(p.name);
      return info(p.name);
    },
    environmentRename: async (p) => {
      const stored = environments.variables(p.from).filter((v) => v.reference === undefined);
      await environments.rename(p.from, p.to);
      await store.rename(stored.map((v) => ({ from: storeNameOf(p.from, v.name), to: storeNameOf(p.to, v.name) })));
      await mounts.storeEnvironmentChanged(p.to, p.from);
      return info(p.to);
    },
    environmentVariables: (p) => {
      if (environments.has(p.name)) return { name: p.name, kind: 'store', variables: variablesOf(p.name) };
      if (onePasswordIds().includes(p.name)) {
        const names = deps.source.environmentNames(p.name);
        if (!Array.isArray(names))
          throw new EnvmountError('UNRESOLVED', `1Password Environment ${p.name}: ${names.problem}.`);
        return {
          name: p.name,
          kind: '1password',
          variables: names.map((name) => ({ name, set: true, reference: undefined })),
        };
      }
      return { name: p.name, kind: 'store', variables: variablesOf(p.name) }; // NOT_FOUND with the fix
    },
    environmentAppend: async (p) => {
      environments.variables(p.name); // NOT_FOUND before anything is stored
      for (const v of p.variables) {
        checkVariableName(v.name);
        if (v.reference === undefined) continue;
        const ref = parseReference(v.reference);
        const problem = ref.scheme === 'op' ? deps.validate(ref.raw) : undefined;
        if (problem)
          throw new EnvmountError('REFERENCE_INVALID', `Invalid reference "${ref.raw}" for ${v.name}: ${problem}.`);
      }
      const values = p.variables.flatMap((v) =>
        v.valueBase64 === undefined
          ? []
          : [{ name: storeNameOf(p.name, v.name), value: Buffer.from(v.valueBase64, 'base64') }],
      );
      try {
        if (values.length > 0) await store.setMany(values);
      } finally {
        for (const v of values) v.value.fill(0);
      }
      await environments.declare(
        p.name,
        p.variables.map((v) =>
          v.reference === undefined ? { name: v.name } : { name: v.name, reference: v.reference },
        ),
      );
      deps.waiters.notify(values.map((v) => v.name));
      await mounts.storeEnvironmentChanged(p.name);
      return info(p.name);
    },
    environmentRequest: async (p) => {
      checkVariableName(p.variable);
      const declared = environments.variables(p.name).find((v) => v.name === p.variable);
      if (declared?.reference) {
        throw new EnvmountError(
          'USAGE',
          `${p.variable} of "${p.name}" is the reference ${declared.reference}, not a value to ask for.`,
        );
      }
      if (!declared) await environments.declare(p.name, [{ name: p.variable }]);
      const name = storeNameOf(p.name, p.variable);
      const set = store.has(name) || (await deps.waiters.wait(name, p.timeoutMs));
      if (set) await mounts.storeEnvironmentChanged(p.name);
      return { name: p.name, variable: p.variable, set };
    },
  };
}
