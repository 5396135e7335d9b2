/**
 * The `# to allow it:` line of a refusal: a command that, run as printed, lets the reader's next read through.
 * Words are shell-quoted; a read a rule refused never waits for approval, so only asked reads advise approving.
 */
import type { MountLocation } from '../../core/argv-location.js';
import {
  type Policy,
  policyFlags,
  type ReaderFacts,
  type Rule,
  ruleMatches,
  ruleText,
  shellWord,
} from '../../core/policy.js';
import type { ProcessInfo } from './process-info.js';

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** An allow rule for this reader's executable, by basename (as `--allow NAME` writes it). */
function allowRuleFor(reader: ProcessInfo): Rule {
  return { effect: 'allow', kind: 'exe', pattern: basename(reader.exe) };
}

/**
 * What to run when a policy refused a reader. A deny rule wins over any allow, so the advice is the mount's rules
 * again (`--reset` starts from the default) without the deny rules that match this reader, plus an allow for it.
 * Such a read never waits for approval, so approving is not advised.
 */
export function deniedAdvice(
  mount: { readonly dir: string; readonly policy: Policy },
  location: MountLocation,
  facts: ReaderFacts,
  reader: ProcessInfo,
  rule: Rule | undefined,
): string {
  const allow = allowRuleFor(reader);
  if (!rule) return `\`envmount policy ${shellWord(mount.dir)} --allow ${shellWord(ruleText(allow))}\``;
  const kept = mount.policy.rules.filter((r) => r.effect === 'allow' || !ruleMatches(r, facts, location));
  const rules = kept.some((r) => r.effect === 'allow' && r.kind === 'exe' && r.pattern === allow.pattern)
    ? kept
    : [...kept, allow];
  const flags = policyFlags({ fallback: mount.policy.fallback, rules });
  return `\`envmount policy ${shellWord(mount.dir)} --reset ${flags.join(' ')}\``;
}

/** For a read that asked and got no yes (timed out, or denied by the user). */
export function approveAdvice(dir: string, reader: ProcessInfo): string {
  const allow = shellWord(ruleText(allowRuleFor(reader)));
  return `\`envmount policy ${shellWord(dir)} --allow ${allow}\`, or approve its next read with \`envmount approve\``;
}
