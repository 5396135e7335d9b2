/**
 * The `.env` readers of the compatibility matrix, each run as a real process the way projects use it, printing
 * the variables it loaded as JSON. Versions are read from what is installed (npm packages from this project's
 * lock; python-dotenv, direnv and docker-compose from the machine or Debian's packages, installed by .ci/run).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dotenvStyle } from '../../src/core/render.js';
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
  /** Loads `.env` in `dir` the reader's way; the names of every variable it loaded (not those `env` had). */
  names(dir: string, env: NodeJS.ProcessEnv): Promise<string[]>;
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

/** The variables a Node script's `load` expression holds, less those its environment had. */
function nodeNames(load: string, flags: readonly string[] = []): Reader['names'] {
  return async (dir, env) => {
    const script = `const loaded=${load};console.log(JSON.stringify(Object.keys(loaded)))`;
    const result = await run(process.execPath, [...flags, '-e', script], { cwd: dir, env, timeoutMs: 30_000 });
    if (result.code !== 0) throw new Error(`node exited ${result.code}: ${result.stderr.trim().slice(0, 300)}`);
    return (JSON.parse(result.stdout) as string[]).filter((k) => !(k in env));
  };
}

/** Every shell variable a bash script's `load` left set that was not set before (exported or not). */
async function bashNames(load: string, dir: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const script = `__before=$(compgen -v); ${load}; compgen -v | while read -r n; do case "$n" in __before) ;; *) printf '%s\n' "$__before" | grep -qxF -- "$n" || printf '%s\n' "$n";; esac; done`;
  const result = await run('bash', ['-c', script], { cwd: dir, env, timeoutMs: 30_000 });
  return result.stdout.split('\n').filter((n) => n !== '');
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
/** How envmount quotes the value (src/core/render.ts): `'` makes it double-quoted. */
const STYLE = (v: string) => dotenvStyle(Buffer.from(v));
/** Double quotes, where node decodes `\n` and the dotenv package `\n` and `\r`. */
const DOUBLE_ESCAPES = (v: string) => STYLE(v) === 'double' && /\\[nr]/.test(v);
/** dotenv-expand, inside Vite and Next: `$NAME` is expanded and `\$` unescaped, in any quotes. */
const EXPANDS = (v: string) => DOLLAR_NAME(v) || v.includes('\\$') || DOUBLE_ESCAPES(v);
const RUN = '`envmount run -- CMD` (values in the environment)';

export function readers(): Reader[] {
  const viteEntry = pathToFileURL(require.resolve('vite')).href;
  return [
    {
      name: 'node --env-file',
      version: process.versions.node,
      cannot: (v) => STYLE(v) === 'double' && v.includes('\\n'),
      cannotText: "`\\n` written in a value that also holds `'` (double-quoted: read as a line break)",
      workaround: RUN,
      read: nodeReader('process.env', ['--env-file=.env']),
      names: nodeNames('process.env', ['--env-file=.env']),
    },
    {
      name: 'node process.loadEnvFile()',
      version: process.versions.node,
      cannot: (v) => STYLE(v) === 'double' && v.includes('\\n'),
      cannotText: "`\\n` written in a value that also holds `'` (double-quoted: read as a line break)",
      workaround: RUN,
      read: nodeReader("(process.loadEnvFile('.env'),process.env)"),
      names: nodeNames("(process.loadEnvFile('.env'),process.env)"),
    },
    {
      name: 'dotenv (npm)',
      version: npmVersion('dotenv'),
      cannot: DOUBLE_ESCAPES,
      cannotText: "`\\n` or `\\r` written in a value that also holds `'` (double-quoted: read as a line break)",
      workaround: RUN,
      read: nodeReader(`(require(${JSON.stringify(require.resolve('dotenv'))}).config({quiet:true}),process.env)`),
      names: nodeNames(`(require(${JSON.stringify(require.resolve('dotenv'))}).config({quiet:true}),process.env)`),
    },
    {
      name: '@dotenvx/dotenvx',
      version: npmVersion('@dotenvx/dotenvx'),
      cannot: DOUBLE_ESCAPES,
      cannotText: "`\\n` or `\\r` written in a value that also holds `'` (double-quoted: read as a line break)",
      workaround: RUN,
      read: nodeReader(
        `(require(${JSON.stringify(require.resolve('@dotenvx/dotenvx'))}).config({quiet:true,ignore:['MISSING_ENV_FILE']}),process.env)`,
      ),
      names: nodeNames(
        `(require(${JSON.stringify(require.resolve('@dotenvx/dotenvx'))}).config({quiet:true,ignore:['MISSING_ENV_FILE']}),process.env)`,
      ),
    },
    {
      name: "Vite's loadEnv",
      version: npmVersion('vite'),
      cannot: EXPANDS,
      cannotText:
        "may change `$NAME` or `\\$` in a value (expanded, unescaped, in any quotes); `\\n` or `\\r` in a value with `'`",
      workaround: RUN,
      read: nodeReader(`(await import(${JSON.stringify(viteEntry)})).loadEnv('development',process.cwd(),'')`, [
        '--input-type=module',
      ]),
      names: nodeNames(`(await import(${JSON.stringify(viteEntry)})).loadEnv('development',process.cwd(),'')`, [
        '--input-type=module',
      ]),
    },
    {
      name: "Next's @next/env",
      version: npmVersion('@next/env'),
      cannot: EXPANDS,
      cannotText:
        "may change `$NAME` or `\\$` in a value (expanded when the name is set, unescaped); `\\n` or `\\r` in a value with `'`",
      workaround: RUN,
      read: nodeReader(
        `require(${JSON.stringify(require.resolve('@next/env'))}).loadEnvConfig(process.cwd(),true,{info(){},error(){}}).combinedEnv`,
      ),
      // What it parsed (combinedEnv holds a marker of its own, __NEXT_PROCESSED_ENV).
      names: nodeNames(
        `require(${JSON.stringify(require.resolve('@next/env'))}).loadEnvConfig(process.cwd(),true,{info(){},error(){}}).parsedEnv`,
      ),
    },
    ...(['python3', '/usr/bin/python3'] as const).map((python) => ({
      name: `python-dotenv (${python})`,
      version: pythonDotenvVersion(python),
      cannot: (v: string) => v.includes('\\') || v.includes('${'),
      cannotText:
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the text names a literal ${NAME}
        'a backslash (decoded even in single quotes), or `${NAME}` (interpolated even in single quotes)',
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
      names: async (dir: string, env: NodeJS.ProcessEnv) => {
        const script =
          "import json\nfrom dotenv import dotenv_values\nprint(json.dumps(list(dotenv_values('.env').keys())))";
        const result = await run(python, ['-c', script], { cwd: dir, env, timeoutMs: 30_000 });
        if (result.code !== 0) throw new Error(`${python} exited ${result.code}: ${result.stderr.trim().slice(-300)}`);
        return JSON.parse(result.stdout) as string[];
      },
    })),
    {
      name: 'bash `set -a; . ./.env`',
      version: commandVersion('bash', ['--version'], /version (\S+)/),
      cannot: (v) => STYLE(v) === 'double-escaped' || (STYLE(v) === 'double' && v.includes('\\')),
      cannotText:
        "`'` with a backslash (double-quoted: bash decodes it), or line breaks written `\\n` (a value with lines direnv would load)",
      workaround: `\`envmount add --format shell\` (export lines bash reads byte-exact), or ${RUN}`,
      read: (dir, keys, env) => bash('set -a; . ./.env; set +a', dir, keys, env),
      names: (dir, env) => bashNames('set -a; . ./.env; set +a', dir, env),
    },
    {
      // The shell guard that wants a regular file: a named pipe fails `-f`, and nothing is loaded.
      name: 'bash `[ -f .env ] && . ./.env`',
      version: commandVersion('bash', ['--version'], /version (\S+)/),
      cannot: (v) => STYLE(v) === 'double-escaped' || (STYLE(v) === 'double' && v.includes('\\')),
      cannotText: 'as bash `set -a; . ./.env`; a named pipe is not `-f`: the FIFO backend loads nothing',
      workaround: `the FUSE backend (\`envmount add --backend fuse\`: a regular file), or ${RUN}`,
      read: (dir, keys, env) => bash('set -a; [ -f .env ] && . ./.env; set +a', dir, keys, env),
      names: (dir, env) => bashNames('set -a; [ -f .env ] && . ./.env; set +a', dir, env),
    },
    {
      name: "direnv's dotenv",
      version: commandVersion('direnv', ['version'], /^(\S+)/),
      cannot: (v) => v.includes('\n') || (v.includes("'") && v.includes('\\')),
      cannotText: "a line break (then it loads nothing), or `'` with a backslash (decoded in double quotes)",
      cascades: true,
      workaround: `a \`--format shell\` mount and \`source_env .env\` in .envrc, or ${RUN}`,
      read: (dir, keys, env) => bash('eval "$(direnv dotenv bash .env)"', dir, keys, env),
      names: (dir, env) => bashNames('eval "$(direnv dotenv bash .env)"', dir, env),
    },
    {
      name: 'docker-compose env_file',
      version: commandVersion('docker-compose', ['version', '--short'], /^(\S+)/),
      workaround: `${RUN} with \`environment: [NAME]\` pass-through in the compose file`,
      read: async (dir, keys, env) => {
        const environment = await composeEnvironment(dir, env);
        return Object.fromEntries(keys.map((k) => [k, environment[k]]));
      },
      names: async (dir, env) => Object.keys(await composeEnvironment(dir, env)),
    },
  ];
}

/** The `environment` docker-compose makes of `env_file: .env` (what `docker-compose config` prints). */
async function composeEnvironment(dir: string, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const compose = join(dir, 'compose.compat.yml');
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
  return JSON.parse(parsed) as Record<string, string>;
}
