#!/usr/bin/env node
// Enforces the dependency directions of docs/ARCHITECTURE.md ("Parts and which way they depend") and two house rules:
// process.env is read only in src/bin and src/config, and only src/native loads the addon. Exits 1 on a violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

// Which top-level parts each part may import (besides itself). Absent = anything but `bin`.
const allowed = {
  core: [],
  config: [],
  io: [],
  native: [],
  control: ['core'],
  secrets: ['core', 'io'],
  daemon: ['core', 'io', 'control', 'secrets', 'native', 'config'],
  cli: ['core', 'control'],
  mcp: ['core', 'control'],
  run: ['core', 'control'],
  service: ['core', 'io'],
  bin: ['core', 'config', 'control', 'cli', 'mcp', 'daemon', 'native', 'run', 'secrets', 'io', 'service'],
};
const packagesAllowed = {
  core: [],
  config: [],
  io: [],
  native: [],
};
const MAX_LINES = 300;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const problems = [];
for (const file of files(src)) {
  const rel = relative(src, file);
  const part = rel.split('/')[0];
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length;
  if (lines > MAX_LINES) problems.push(`${rel}: ${lines} lines; split it by concern (limit ${MAX_LINES})`);
  if (part !== 'bin' && part !== 'config' && /process\.env\b/.test(text)) {
    problems.push(`${rel}: reads process.env; only src/bin and src/config may (pass config down)`);
  }
  if (part !== 'native' && /\.node['"]/.test(text)) problems.push(`${rel}: loads a native addon; only src/native may`);
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
    const spec = match[1];
    if (spec.startsWith('node:')) continue;
    if (spec.startsWith('.')) {
      const target = relative(src, resolve(dirname(file), spec)).split('/')[0];
      if (target === part) continue;
      if (target === 'bin') problems.push(`${rel}: imports src/bin; nothing may`);
      else if (!(allowed[part] ?? []).includes(target))
        problems.push(`${rel}: ${part} may not import ${target} (${spec})`);
    } else if (part in packagesAllowed && !packagesAllowed[part].includes(spec)) {
      problems.push(`${rel}: ${part} imports only node: built-ins, not "${spec}"`);
    }
  }
}
if (problems.length > 0) {
  console.error(
    `Dependency rules broken (see docs/ARCHITECTURE.md, "Parts and which way they depend"):\n  ${problems.join('\n  ')}`,
  );
  process.exit(1);
}
console.log('dependency rules: ok');
