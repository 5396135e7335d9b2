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
// Inside src/daemon: which rooms each room may import (besides itself). Files directly in src/daemon are the wiring
// (daemon, handlers, cleanup, peer, import, agent requests) and may import every room; no room imports the wiring.
const daemonRooms = {
  readers: [],
  templates: [],
  mounts: ['readers', 'templates'],
  environments: ['mounts'],
  run: ['readers', 'mounts', 'templates'],
};
const MAX_LINES = 300;

/** The room of a file under src/daemon ('' for the wiring), or undefined outside it. */
function daemonRoom(relPath) {
  const parts = relPath.split('/');
  if (parts[0] !== 'daemon') return undefined;
  return parts.length > 2 ? parts[1] : '';
}

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const problems = [];
/** Every relative import, `import type` included: src-relative path -> the paths it imports. */
const graph = new Map();
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
  const edges = [];
  graph.set(rel, edges);
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
    const spec = match[1];
    if (spec.startsWith('node:')) continue;
    if (spec.startsWith('.')) {
      const targetPath = relative(src, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
      edges.push(targetPath);
      const target = targetPath.split('/')[0];
      const fromRoom = daemonRoom(rel);
      const toRoom = daemonRoom(targetPath);
      if (fromRoom !== undefined && toRoom !== undefined && fromRoom !== toRoom) {
        if (fromRoom !== '' && (toRoom === '' || !(daemonRooms[fromRoom] ?? []).includes(toRoom)))
          problems.push(`${rel}: daemon/${fromRoom} may not import daemon/${toRoom || '(the wiring)'} (${spec})`);
      }
      if (target === part) continue;
      if (target === 'bin') problems.push(`${rel}: imports src/bin; nothing may`);
      else if (!(allowed[part] ?? []).includes(target))
        problems.push(`${rel}: ${part} may not import ${target} (${spec})`);
    } else if (part in packagesAllowed && !packagesAllowed[part].includes(spec)) {
      problems.push(`${rel}: ${part} imports only node: built-ins, not "${spec}"`);
    }
  }
}
// No import cycles, `import type` included (Tarjan's strongly connected components).
{
  let index = 0;
  const stack = [];
  const info = new Map();
  const strongConnect = (v) => {
    info.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!info.has(w)) {
        strongConnect(w);
        info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
      } else if (info.get(w).onStack) info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
    }
    if (info.get(v).low === info.get(v).index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        info.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop)
        problems.push(`import cycle: ${component.sort().join(', ')}; move what they share into a module both import`);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!info.has(v)) strongConnect(v);
}
if (problems.length > 0) {
  console.error(
    `Dependency rules broken (see docs/ARCHITECTURE.md, "Parts and which way they depend"):\n  ${problems.join('\n  ')}`,
  );
  process.exit(1);
}
console.log('dependency rules: ok');
