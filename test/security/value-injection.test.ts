/**
 * Issue 14, class 2: a value must never end its quoting, add a variable or run code in any reader of
 * docs/compat.md, whatever the format. Adversarial values (quotes, backticks, `$(`, `${`, `\`, CR, LF, `#`, `=`,
 * NUL, line separators, non-ASCII, and ready-made payloads: a canary command substitution, a `NODE_OPTIONS`
 * line that would load a script that makes the canary) are rendered and given to every installed reader as a
 * regular file: the names each loads must be exactly the variables served, and the canary must never appear.
 * Then the same attack through a real mount.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RenderItem } from '../../src/core/render.js';
import { renderFormat } from '../../src/core/render-formats.js';
import { readers } from '../compat/readers.js';
import { killAll, run, TestDaemon, waitFor, writeTemplate } from '../helpers/daemon.js';
import { FUSE_SKIP } from '../helpers/fuse.js';

const tmp = mkdtempSync('/tmp/emt-inject-');
const CANARY = join(tmp, 'ran');
const EVIL = join(tmp, 'evil.js');
writeFileSync(EVIL, `require('fs').writeFileSync(${JSON.stringify(CANARY)}, 'node loaded evil.js')\n`);
/** The readers' environment: nothing that could hide an injected name. */
const ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: tmp, LANG: 'C.UTF-8' };

const PIECES = [
  "'",
  '"',
  '`',
  '\\',
  '$',
  '${',
  '$(',
  '#',
  '=',
  ' ',
  '\r',
  '\n',
  '\t',
  '\0',
  'é',
  '🙂',
  '\u2028',
  '\u2029',
  '\u0085',
  '\u0080',
  '\ufeff',
  'export ',
  ': ',
  "'\\''",
  'a',
  'Z',
  '0',
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `$((INJ[$(touch ${CANARY})]))`,
  `\nNODE_OPTIONS=--require=${EVIL}\n`,
  '\nINJECTED=1\n',
  '\rINJECTED=1\r',
  'INJECTED=1',
  '\nINJECTED: 1',
  '\n#',
];
const adversarial = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }).map((p) => p.join(''));
/** A few values in one file: one value may try to end the quoting of the next. */
const values = fc.array(adversarial, { minLength: 1, maxLength: 4 });

function items(sample: readonly string[]): RenderItem[] {
  return [
    { key: 'BEFORE', value: Buffer.from('before') },
    ...sample.map((v, i) => ({ key: `V${i}`, value: Buffer.from(v) })),
    { key: 'AFTER', value: Buffer.from('after') },
  ];
}

const installed = readers().filter((r) => r.version !== undefined);
/** Readers that refuse a whole file they cannot parse (direnv: a multi-line value) and then load nothing. */
const ALL_OR_NOTHING = new Set(["direnv's dotenv"]);
/** 20 seeded runs in `npm test` (each runs every reader); INJECTION_RUNS=N runs N random ones (150 passed at commit). */
const runs = Number(process.env.INJECTION_RUNS ?? 20);
const seeded = process.env.INJECTION_RUNS ? {} : { seed: 20261130 };

let sampleDir = 0;
function fileWith(content: Buffer): string {
  const dir = join(tmp, `s${sampleDir++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, '.env'), content);
  return dir;
}

function expectNames(reader: string, loaded: readonly string[], served: readonly string[]): void {
  const got = [...new Set(loaded)].sort();
  if (ALL_OR_NOTHING.has(reader) && got.length === 0) return;
  expect(got, reader).toEqual([...served].sort());
}

afterAll(async () => {
  await killAll();
  rmSync(tmp, { recursive: true, force: true });
});

describe('dotenv: no value adds a variable or runs code in any installed reader', () => {
  it('the readers are installed (a missing one would make this test prove less)', () => {
    const names = installed.map((r) => r.name);
    for (const must of ['node --env-file', 'dotenv (npm)', '@dotenvx/dotenvx', 'bash `set -a; . ./.env`'])
      expect(names).toContain(must);
  });

  it('fast-check: adversarial values through every reader from a regular file', async () => {
    await fc.assert(
      fc.asyncProperty(values, async (sample) => {
        const rendered = renderFormat('dotenv', items(sample));
        const refused = new Set(rendered.refused.map((r) => r.key));
        const served = items(sample)
          .map((i) => i.key)
          .filter((k) => !refused.has(k));
        expect(served).toContain('AFTER');
        const dir = fileWith(rendered.content);
        const results = await Promise.all(installed.map(async (r) => [r.name, await r.names(dir, ENV)] as const));
        for (const [name, loaded] of results) expectNames(name, loaded, served);
        expect(existsSync(CANARY), 'a reader ran code from a value').toBe(false);
      }),
      // Found by an attack on this code: direnv breaks lines at a lone CR too.
      { numRuns: runs, ...seeded, examples: [[[`harmless\rNODE_OPTIONS=--require=${EVIL}\r#`]]] },
    );
  }, 600_000);

  it('the comment for a refused value names it and holds nothing of the value', () => {
    const secret = `it's "${'`'}x${'`'}"\nNODE_OPTIONS=--require=${EVIL}\n`;
    const { content, refused } = renderFormat('dotenv', [{ key: 'BAD', value: Buffer.from(secret) }]);
    expect(refused.map((r) => r.key)).toEqual(['BAD']);
    const text = content.toString();
    expect(text).toMatch(/^# BAD cannot be served safely as dotenv: [^\n]+\n$/);
    expect(text).not.toContain('NODE_OPTIONS');
    expect(text).not.toContain(EVIL);
  });
});

describe('shell, json, yaml: values stay values', () => {
  it('fast-check: shell lines read back byte-exact by bash and dash, with no extra name and nothing run', async () => {
    await fc.assert(
      fc.asyncProperty(values, async (sample) => {
        const list = items(sample);
        const rendered = renderFormat('shell', list);
        const refused = new Set(rendered.refused.map((r) => r.key));
        const served = list.filter((i) => !refused.has(i.key));
        for (const key of refused) expect(sample[Number(key.slice(1))], key).toContain('\0');
        const dir = fileWith(rendered.content);
        const show = served.map((i) => `printf '%s\\0' "$${i.key}"`).join('; ');
        for (const shell of ['bash', 'dash']) {
          const result = await run(shell, ['-c', `set -a; . ./.env; set +a; ${show}`], { cwd: dir, env: ENV });
          expect(result.stderr, shell).toBe('');
          expect(result.stdout.split('\0').slice(0, -1), shell).toEqual(
            served.map((i) => ('value' in i ? i.value.toString() : '')),
          );
        }
        const bash = installed.find((r) => r.name.startsWith('bash'));
        expectNames('bash', (await bash?.names(dir, ENV)) ?? [], [...served.map((i) => i.key)]);
        expect(existsSync(CANARY), 'a shell ran code from a value').toBe(false);
      }),
      { numRuns: runs, ...seeded },
    );
  }, 300_000);

  it('fast-check: JSON.parse gives exactly the values', () => {
    fc.assert(
      fc.property(values, (sample) => {
        const list = items(sample);
        const parsed = JSON.parse(renderFormat('json', list).content.toString('utf8'));
        expect(parsed).toEqual(Object.fromEntries(list.map((i) => [i.key, 'value' in i ? i.value.toString() : ''])));
      }),
      { numRuns: 200, ...seeded },
    );
  });

  it('fast-check: a YAML parser (PyYAML) gives exactly the keys, and the values', async () => {
    const samples = fc.sample(values, { numRuns: 40, ...seeded });
    const dirs = samples.map((sample) => fileWith(renderFormat('yaml', items(sample)).content));
    const script = `import json,sys,yaml\nprint(json.dumps([yaml.safe_load(open(d + '/.env', encoding='utf-8')) for d in sys.argv[1:]]))`;
    const result = await run('/usr/bin/python3', ['-c', script, ...dirs], { env: ENV });
    expect(result.stderr).toBe('');
    const parsed = JSON.parse(result.stdout) as Record<string, string>[];
    samples.forEach((sample, i) => {
      const expected = Object.fromEntries(
        items(sample).map((it) => [it.key, 'value' in it ? it.value.toString() : '']),
      );
      expect(Object.keys(parsed[i] ?? {}).sort(), JSON.stringify(sample)).toEqual(Object.keys(expected).sort());
      for (const [key, value] of Object.entries(expected)) expect(parsed[i]?.[key], JSON.stringify(value)).toBe(value);
    });
  }, 120_000);
});

describe('through a real mount', () => {
  let daemon: TestDaemon;
  const ATTACK: Record<string, string> = {
    // The reported attack: both quotes, a backtick and lines that are variables to a line reader.
    QUOTED: `it's "a" \`b\`\nNODE_OPTIONS=--require=${EVIL}\nINJECTED=1\n`,
    SUBST: `$(touch ${CANARY}) \`touch ${CANARY}\` it's`,
    LINES: `x\nNODE_OPTIONS=--require=${EVIL}\nINJECTED=1`,
    TRAILING: 'C:\\dir\\',
    NEXT: `#\nINJECTED=2\n`,
    PLAIN: 'plain value',
  };

  beforeAll(async () => {
    daemon = new TestDaemon();
    await daemon.start();
  });
  afterAll(async () => {
    await killAll();
    await daemon?.dispose();
  });

  it('serves no reader an extra variable or a command, and status names each refused variable', async () => {
    const client = await daemon.client();
    try {
      for (const [name, value] of Object.entries(ATTACK))
        await client.request('set', { name, valueBase64: Buffer.from(value).toString('base64') });
    } finally {
      client.close();
    }
    const dir = daemon.project(
      'attack',
      Object.keys(ATTACK)
        .map((k) => `${k}=envmount://${k}\n`)
        .join(''),
    );
    const added = await daemon.cli(['add', dir, '--allow', 'any']);
    expect(added.code, added.stderr).toBe(0);
    const refused = ['QUOTED', 'SUBST', 'TRAILING'];
    const served = Object.keys(ATTACK).filter((k) => !refused.includes(k));
    // The readers that read a named pipe (docs/compat.md); the others get nothing from a mount.
    const piped = installed.filter(
      (r) =>
        !['docker-compose env_file', 'python-dotenv (/usr/bin/python3)', 'bash `[ -f .env ] && . ./.env`'].includes(
          r.name,
        ),
    );
    for (const reader of piped) {
      expectNames(reader.name, await reader.names(dir, ENV), served);
      expect(existsSync(CANARY), `${reader.name} ran code from a value`).toBe(false);
    }
    // The same through a FUSE mount (a regular file), which every installed reader reads.
    if (FUSE_SKIP === undefined) {
      const fuse = daemon.project('attack-fuse', readFileSync(join(dir, '.env.op'), 'utf8'));
      expect((await daemon.cli(['add', fuse, '--backend', 'fuse', '--allow', 'any'])).code).toBe(0);
      for (const reader of installed) {
        expectNames(reader.name, await reader.names(fuse, ENV), served);
        expect(existsSync(CANARY), `${reader.name} ran code from a value (FUSE)`).toBe(false);
      }
    }
    const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
    const mount = status.mounts.find((m: { dir: string }) => m.dir === dir);
    expect((mount.refused as { key: string }[]).map((r) => r.key).sort()).toEqual(refused);
    for (const { reason } of mount.refused as { reason: string }[]) expect(reason).not.toContain(EVIL);
    const text = (await daemon.cli(['status'])).stdout;
    expect(text).toContain('refused:   QUOTED is not served as dotenv: it holds');
  }, 180_000);

  it('a template error (text from the template) is one comment line to every reader', async () => {
    const dir = daemon.project('broken', 'PLAIN=envmount://PLAIN\n');
    expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
    // JS regexes (the dotenv package's) take U+2028 for a line break: the error quotes this line.
    writeTemplate(dir, 'PLAIN=envmount://PLAIN\nBAD\u2028INJECTED=1\n');
    await waitFor(async () => {
      const all = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
      return all.mounts.find((m: { dir: string }) => m.dir === dir)?.state === 'error' ? true : undefined;
    });
    for (const reader of installed.filter((r) => r.name.startsWith('dotenv') || r.name.startsWith('node'))) {
      expectNames(reader.name, await reader.names(dir, ENV), []);
    }
  }, 60_000);
});
