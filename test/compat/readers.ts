/**
 * The `.env` readers of the compatibility matrix, each run as a real process the way projects use it, printing
 * the variables it loaded as JSON. Versions are read from what is installed (npm packages from this project's
 * lock; python-dotenv, direnv and docker-compose from the machine or Debian's packages, installed by .ci/run).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from '../helpers/daemon.js';

export interface Reader {
  readonly name: string;
  /** The installed version, or undefined when this machine does not have the reader. */
  readonly version: string | undefined;
  /** Values this reader cannot carry whatever the quoting (for the property test), as a predicate on the value. */
  readonly cannot?: (value: string) => boolean;
  readonly cannotText?: string;
  /** One value outside its limits can spoil the rest of the file (the parser loses its place, or gives up). */
  readonly cascades?: boolean;
  /** What to do where it does not read the mount, or loses a value. */
  readonly workaround: string;
  /** Loads `.env` in `dir` the reader's way; the variables named in `keys`, as loaded. */
  read(dir: string, keys: readonly string[], env: NodeJS.ProcessEnv): Promise<Record<string, string | undefined>>;
}

const require = createRequire(import.meta.url);

function npmVersion(name: string): string | undefined {
  try {
    const pkg = join(require.resolve(`${name}/package.json`));
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function commandVersion(command: string, args: string[], pattern: RegExp): string | undefined {
  try {
    const out = execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    return pattern.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

function pythonDotenvVersion(python: string): string | undefined {
  return commandVersion(
    python,
    ['-c', "from importlib.metadata import version; print(version('python-dotenv'))"],
    /^(\S+)/,
  );
}

async function json(
  command: string,
  args: string[],
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, string | undefined>> {
  const result = await run(command, args, { cwd: dir, env, timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`${command} exited ${result.code}: ${result.stderr.trim().slice(0, 300)}`);
  // Python's None (a variable it did not load) comes as null: the same as not loaded.
  const loaded = JSON.parse(result.stdout) as Record<string, string | null | undefined>;
  return Object.fromEntries(Object.entries(loaded).map(([k, v]) => [k, v ?? undefined]));
}

/** Loads `.env` with a Node script: `load` is an expression of the variables it loaded (`KEYS` are the wanted names). */
function nodeReader(load: string, flags: readonly string[] = []): Reader['read'] {
  return (dir, keys, env) =>
    json(
      process.execPath,
      [
        ...flags,
        '-e',
        `const KEYS=${JSON.stringify(keys)};const loaded=${load};console.log(JSON.stringify(Object.fromEntries(KEYS.map(k=>[k,loaded[k]]))))`,
      ],
      dir,
      env,
    );
}

/** Bash prints each key's value NUL-terminated (set or not: unset prints as empty, marked by a leading byte). */
async function bash(script: string, dir: string, keys: readonly string[], env: NodeJS.ProcessEnv) {
  const show = keys
    .map((k) => `if [ -n "\${${k}+x}" ]; then printf 's%s\\0' "$${k}"; else printf 'u\\0'; fi`)
    .join(';');
  const result = await run('bash', ['-c', `${script}; ${show}`], { cwd: dir, env, timeoutMs: 30_000 });
  const parts = result.stdout.split('\0');
  return Object.fromEntries(keys.map((k, i) => [k, parts[i]?.startsWith('s') ? parts[i]?.slice(1) : undefined]));
}

const DOLLAR_NAME = (v: string) => /\$[A-Za-z0-9_{]/.test(v);
/** The dotenv package's parser (dotenv, dotenvx, Vite, Next) takes a backslash before the closing quote for an
 * escaped quote: a value ending in `\` can run on into the next lines. */
const TRAILING_BACKSLASH = (v: string) => v.endsWith('\\');
/** dotenv-expand, inside Vite and Next: `$NAME` is expanded and `\$` unescaped, in any quotes. */
const EXPANDS = (v: string) => DOLLAR_NAME(v) || v.includes('\\$') || TRAILING_BACKSLASH(v);
const RUN = '`envmount run -- CMD` (values in the environment)';

export function readers(): Reader[] {
  const viteEntry = pathToFileURL(require.resolve('vite')).href;
  return [
    {
      name: 'node --env-file',
      version: process.versions.node,
      workaround: '',
      read: nodeReader('process.env', ['--env-file=.env']),
    },
    {
      name: 'dotenv (npm)',
      version: npmVersion('dotenv'),
      cannot: TRAILING_BACKSLASH,
      cannotText: 'a value ending in `\\` (read as an escaped closing quote: the next lines run into it)',
      cascades: true,
      workaround: RUN,
      read: nodeReader(`(require(${JSON.stringify(require.resolve('dotenv'))}).config({quiet:true}),process.env)`),
    },
    {
      name: '@dotenvx/dotenvx',
      version: npmVersion('@dotenvx/dotenvx'),
      cannot: (v) => (v.includes("'") && DOLLAR_NAME(v)) || TRAILING_BACKSLASH(v),
      cascades: true,
      cannotText: "a value with both `'` and `$NAME` (expanded in the only quotes left), or ending in `\\`",
      workaround: RUN,
      read: nodeReader(
        `(require(${JSON.stringify(require.resolve('@dotenvx/dotenvx'))}).config({quiet:true,ignore:['MISSING_ENV_FILE']}),process.env)`,
      ),
    },
    {
      name: "Vite's loadEnv",
      version: npmVersion('vite'),
      cannot: EXPANDS,
      cascades: true,
      cannotText: 'may change `$NAME` or `\\$` in a value (expanded, unescaped, in any quotes); a value ending in `\\`',
      workaround: RUN,
      read: nodeReader(`(await import(${JSON.stringify(viteEntry)})).loadEnv('development',process.cwd(),'')`, [
        '--input-type=module',
      ]),
    },
    {
      name: "Next's @next/env",
      version: npmVersion('@next/env'),
      cannot: EXPANDS,
      cascades: true,
      cannotText:
        'may change `$NAME` or `\\$` in a value (expanded when the name is set, unescaped); a value ending in `\\`',
      workaround: RUN,
      read: nodeReader(
        `require(${JSON.stringify(require.resolve('@next/env'))}).loadEnvConfig(process.cwd(),true,{info(){},error(){}}).combinedEnv`,
      ),
    },
    ...(['python3', '/usr/bin/python3'] as const).map((python) => ({
      name: `python-dotenv (${python})`,
      version: pythonDotenvVersion(python),
      cannot: (v: string) => v.includes('\\') || v.includes('${') || (v.includes("'") && /["$`\n]/.test(v)),
      cannotText:
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the text names a literal ${NAME}
        'a backslash (decoded even in single quotes), `${NAME}` (interpolated even in single quotes), or `\'` with any of `" $`, a backtick or a line break (no backtick quoting)',
      cascades: true,
      workaround: `${RUN}; python-dotenv reads named pipes from 1.1.2 on`,
      read: (dir: string, keys: readonly string[], env: NodeJS.ProcessEnv) =>
        json(
          python,
          [
            '-c',
            `import json,sys\nfrom dotenv import dotenv_values\nv=dotenv_values('.env')\nprint(json.dumps({k: v.get(k) for k in ${JSON.stringify(keys)}}))`,
          ],
          dir,
          env,
        ),
    })),
    {
      name: 'bash `set -a; . ./.env`',
      version: commandVersion('bash', ['--version'], /version (\S+)/),
      cannot: (v) => v.includes("'") && /["\\$`\n]/.test(v),
      cannotText: '`\'` with any of `" \\ $`, a backtick or a line break (a backtick is command substitution to bash)',
      cascades: true,
      workaround: `\`envmount add --format shell\` (export lines bash reads byte-exact), or ${RUN}`,
      read: (dir, keys, env) => bash('set -a; . ./.env; set +a', dir, keys, env),
    },
    {
      name: "direnv's dotenv",
      version: commandVersion('direnv', ['version'], /^(\S+)/),
      cannot: (v) => v.includes('\n') || (v.includes("'") && /["\\$`]/.test(v)),
      cannotText:
        'a line break, or `\'` with any of `" \\ $` or a backtick (no backtick quoting); then it loads nothing',
      cascades: true,
      workaround: `a \`--format shell\` mount and \`source_env .env\` in .envrc, or ${RUN}`,
      read: (dir, keys, env) => bash('eval "$(direnv dotenv bash .env)"', dir, keys, env),
    },
    {
      name: 'docker-compose env_file',
      version: commandVersion('docker-compose', ['version', '--short'], /^(\S+)/),
      workaround: `${RUN} with \`environment: [NAME]\` pass-through in the compose file`,
      read: async (dir, keys, env) => {
        const compose = join(dir, 'compose.compat.yml');
        const { writeFileSync } = await import('node:fs');
        writeFileSync(compose, 'services:\n  app:\n    image: busybox\n    env_file: .env\n');
        const result = await run('docker-compose', ['-f', compose, 'config'], { cwd: dir, env, timeoutMs: 60_000 });
        if (result.code !== 0) throw new Error(result.stderr.trim().split('\n').pop() ?? 'failed');
        const parsed = execFileSync(
          '/usr/bin/python3',
          [
            '-c',
            'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)["services"]["app"].get("environment", {})))',
          ],
          { input: result.stdout },
        ).toString();
        const environment = JSON.parse(parsed) as Record<string, string>;
        return Object.fromEntries(keys.map((k) => [k, environment[k]]));
      },
    },
  ];
}
