/** What parsed templates reference: `op://` references for the cache (checked at `envmount add`), store names. */
import { EnvmountError } from '../../core/errors.js';
import type { TemplateEntry } from '../../core/template.js';
import type { LoadedTemplate } from './templates.js';

export function opReferencesOf(templates: readonly LoadedTemplate[]): string[] {
  const refs = new Set<string>();
  for (const template of templates) {
    if (!('entries' in template)) continue;
    for (const entry of template.entries) {
      for (const part of entry.parts) if (part.kind === 'ref' && part.ref.scheme === 'op') refs.add(part.ref.raw);
    }
  }
  return [...refs];
}

/** Throws TEMPLATE_PARSE (file:line) for the first `op://` reference the provider calls invalid. */
export function validateOpReferences(
  templatePath: string,
  entries: readonly TemplateEntry[],
  validate: (reference: string) => string | undefined,
): void {
  for (const entry of entries) {
    for (const part of entry.parts) {
      if (part.kind !== 'ref' || part.ref.scheme !== 'op') continue;
      const problem = validate(part.ref.raw);
      if (problem) {
        throw new EnvmountError(
          'TEMPLATE_PARSE',
          `${templatePath}:${entry.line}: Invalid reference "${part.ref.raw}": ${problem}.`,
        );
      }
    }
  }
}

/** Whether a template uses `envmount://NAME`. */
export function usesStoreName(template: LoadedTemplate, name: string): boolean {
  return (
    'entries' in template &&
    template.entries.some((e) =>
      e.parts.some((p) => p.kind === 'ref' && p.ref.scheme === 'envmount' && p.ref.name === name),
    )
  );
}

/** Whether a template uses a store name under `NAME/` (an environment's values, `envmount://NAME/VAR`). */
export function usesNamespace(template: LoadedTemplate, name: string): boolean {
  const prefix = `${name}/`;
  return (
    'entries' in template &&
    template.entries.some((e) =>
      e.parts.some((p) => p.kind === 'ref' && p.ref.scheme === 'envmount' && p.ref.name.startsWith(prefix)),
    )
  );
}
