/** `envmount policy DIR` as text: the rules, the grants with their expiry, and what decided each of the last reads. */
import type { MountStatus } from '../control/protocol.js';
import { visible } from '../core/visible-text.js';

function ruleLine(r: MountStatus['rules'][number]): string {
  const exe = r.exe !== undefined ? `exe:${r.exe} ` : '';
  return `    ${r.effect} ${visible(`${exe}${r.kind}:${r.pattern}`)}`;
}

export function formatPolicy(m: MountStatus): string {
  const lines = [`${m.path}`, '  rules (deny wins; remove one with `envmount policy DIR --remove "RULE"`):'];
  lines.push(...(m.rules.length ? m.rules.map(ruleLine) : ['    (none)']));
  lines.push(`  otherwise: ${m.otherwise} (readers no rule matches)`);
  const agents = {
    ask: 'always asked; served only by a grant or a script: rule',
    deny: 'refused',
    rules: 'judged by the rules, as any reader',
  }[m.agents];
  lines.push(`  agents:    ${m.agents} (readers started by a coding agent: ${agents})`);
  lines.push('  grants:');
  if (m.grants.length === 0) lines.push('    (none)');
  for (const g of m.grants) {
    const how = g.until !== undefined ? `until ${g.until} (approve --for)` : `always (approve --always: ${g.rule})`;
    lines.push(`    ${visible(g.reader)} ${how}`);
  }
  lines.push('  last readers:');
  if (m.lastReaders.length === 0) lines.push('    (none)');
  for (const r of m.lastReaders) {
    const who = r.exe ? `${visible(r.exe)} (pid ${r.pid})` : '(reader not identified)';
    lines.push(`    ${r.time} ${r.decision} ${who}${r.rule ? ` by ${visible(r.rule)}` : ''}`);
  }
  return lines.join('\n');
}
