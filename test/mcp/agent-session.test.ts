/**
 * The supported agent setup, scripted end to end (README, "Coding agents"): a coding agent (a stand-in for Claude
 * Code: node running .../@anthropic-ai/claude-code/cli.mjs, with the official MCP client connected to `envmount mcp`
 * and its shell commands run as its children) sets up the environment with request_variable (the value typed by the
 * user, never seen by the agent), mounts it, starts the app, which is served after one `--always` approval of its
 * script; then every exfiltration attempt the agent makes gets nothing but refusal lines with advice for the user.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, killAll, ROOT, run, TestDaemon, track, waitFor } from '../helpers/daemon.js';

const CANARY = `agent-canary-${randomBytes(12).toString('hex')}`;
const SHA = createHash('sha256').update(CANARY).digest('hex');
/** The app: reads its .env, says whether it got API_KEY (by its hash: the value itself is never printed). */
const SERVER = `const text = require('fs').readFileSync('.env', 'utf8');
const m = /^API_KEY='(.*)'$/m.exec(text);
console.log(m ? 'serving with API_KEY sha256=' + require('crypto').createHash('sha256').update(m[1]).digest('hex') : 'no API_KEY:\\n' + text);
`;

interface Outcome {
  code: number | string | null;
  stdout: string;
  stderr: string;
}

let daemon: TestDaemon;
let agent: ChildProcess;
let web: string;
const replies: Array<(message: Record<string, unknown>) => void> = [];
const exits = new Map<string, (outcome: Outcome) => void>();
const seen: string[] = [];

function send(message: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    replies.push(resolve);
    agent.stdin?.write(`${JSON.stringify(message)}\n`);
  });
}

async function tool(name: string, args: Record<string, unknown> = {}) {
  const reply = (await send({ op: 'tool', name, args })) as { error: boolean; text: string };
  return { ...reply, json: () => JSON.parse(reply.text) };
}

async function waiting(): Promise<Array<{ id: number; pid: number; exe: string; agent?: string }>> {
  const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
  return status.mounts.flatMap((m: { waiting?: unknown[] }) => m.waiting ?? []);
}

let nextId = 0;
/**
 * The agent runs `cmd` in the app's directory. When the read waits for the user (visible in `status`), the user's
 * `answer` is given (deny by default). Resolves with the command's outcome and the wait it caused, if any.
 */
async function attempt(cmd: string, answer: (id: number) => Promise<void> = deny) {
  const id = String(nextId++);
  const exited = new Promise<Outcome>((resolve) => exits.set(id, resolve));
  let outcome: Outcome | undefined;
  void exited.then((o) => {
    outcome = o;
  });
  await send({ op: 'start', id, cmd, cwd: web });
  const asked = await waitFor(async () => outcome ?? (await waiting())[0]);
  if ('id' in asked) {
    await answer(asked.id);
    return { ...(await exited), asked };
  }
  return { ...asked, asked: undefined };
}

async function deny(id: number): Promise<void> {
  expect((await daemon.cli(['deny', String(id)])).code).toBe(0);
}

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start({ ENVMOUNT_DESKTOP_PROMPT: '0' });
  web = daemon.project('web');
  writeFileSync(join(web, 'server.js'), SERVER);
  const bin = join(daemon.root, 'bin');
  mkdirSync(bin);
  symlinkSync(CLI, join(bin, 'envmount'));
  const agentDir = join(daemon.root, 'agent', 'node_modules', '@anthropic-ai', 'claude-code');
  mkdirSync(agentDir, { recursive: true });
  copyFileSync(join(import.meta.dirname, '../fixtures/fake-agent.mjs'), join(agentDir, 'cli.mjs'));
  agent = track(
    spawn(process.execPath, [join(agentDir, 'cli.mjs')], {
      cwd: daemon.dirs.projects,
      env: {
        ...daemon.env,
        PATH: `${bin}:${daemon.env.PATH}`,
        ENVMOUNT_TEST_ROOT: ROOT,
        ENVMOUNT_TEST_CLI: CLI,
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  for (const stream of [agent.stdout]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      seen.push(line);
      const message = JSON.parse(line) as Record<string, unknown>;
      if ('exited' in message) exits.get(String(message.exited))?.(message as unknown as Outcome);
      else replies.shift()?.(message);
    });
  }
});

afterAll(async () => {
  agent?.stdin?.end(`${JSON.stringify({ op: 'close' })}\n`);
  await killAll();
  await daemon.dispose();
});

describe('a coding agent with envmount mcp', () => {
  it('sets up the environment with request_variable; the user types the value', async () => {
    expect((await tool('create_environment', { name: 'app' })).json()).toMatchObject({ name: 'app' });
    const requested = tool('request_variable', { environment: 'app', name: 'API_KEY', timeout_seconds: 120 });
    await waitFor(async () => JSON.parse((await daemon.cli(['--json', 'status'])).stdout).daemon.valueRequests === 1);
    expect((await daemon.cli(['set', 'app/API_KEY'], { input: CANARY })).code).toBe(0);
    expect((await requested).json()).toMatchObject({ set: true });
  });

  it('mounts it at the project', async () => {
    const mounted = await tool('create_local_env_file', { environment: 'app', directory: 'web' });
    expect(mounted.json()).toMatchObject({ path: join(web, '.env'), state: 'serving' });
  });

  it('starts the app: served after one --always approval of its script, then without asking', async () => {
    const always = async (id: number) => {
      const approved = await run('script', ['-qec', `${process.execPath} ${CLI} approve ${id} --always`, '/dev/null'], {
        env: daemon.env,
        input: 'y\n',
      });
      expect(approved.stdout).toContain('Approved');
    };
    const first = await attempt('node server.js', always);
    expect(first.asked).toMatchObject({ agent: 'claude' });
    expect(first.stdout).toContain(`serving with API_KEY sha256=${SHA}`);
    const again = await attempt('node server.js');
    expect(again.asked).toBeUndefined();
    expect(again.stdout).toContain(`serving with API_KEY sha256=${SHA}`);
  });

  const attempts = [
    'cat .env',
    `node -e "process.stdout.write(require('fs').readFileSync('.env'))"`,
    `python3 -c "print(open('.env').read())"`,
    'grep -r API_KEY .',
    'grep -r -D read -e API_KEY -e envmount .',
    'envmount run -- env',
    `envmount run -- node -e "console.log(process.env.API_KEY)"`,
  ];
  for (const cmd of attempts) {
    it(`gets nothing from \`${cmd}\`, and the refusal advises the user`, async () => {
      const outcome = await attempt(cmd);
      const output = outcome.stdout + outcome.stderr;
      expect(output).not.toContain(CANARY);
      // `grep -r` skips the pipe (GNU grep reads no FIFO it finds recursing): it reads nothing at all.
      if (cmd === 'grep -r API_KEY .') return;
      expect(output).toMatch(/refused/);
      expect(output).toMatch(/`?envmount (approve|policy|deny)[^`\n]*/);
    });
  }

  it('no message to the agent carried the value', () => {
    expect(seen.filter((line) => line.includes(CANARY))).toEqual([]);
  });
});
