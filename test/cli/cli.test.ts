/** The CLI's contract: help and version, names only out, values only in through stdin, clear daemon-down errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, killAll, run, TestDaemon } from '../helpers/daemon.js';

let daemon: TestDaemon;

beforeAll(() => {
  daemon = new TestDaemon();
});

afterAll(async () => {
  await killAll();
  await daemon.dispose();
});

describe('envmount CLI', () => {
  it('says when the daemon is not running and how to start it (exit 3)', async () => {
    const result = await daemon.cli(['status']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('envmountd is not running');
    expect(result.stderr).toContain('`envmountd start`');
    expect(result.stdout).toBe('');
  });

  it('prints --help and --version on stdout', async () => {
    const help = await daemon.cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['add', 'remove', 'list', 'status', 'set', 'unset', 'vars', 'import']) {
      expect(help.stdout).toMatch(new RegExp(`\\n  ${command}\\b`));
    }
    const version = await daemon.cli(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects usage errors with exit 2', async () => {
    expect((await daemon.cli(['set'])).code).toBe(2);
    expect((await daemon.cli(['frobnicate'])).code).toBe(2);
  });

  it('set with a value on the command line: exit 2, and where the value goes instead', async () => {
    const result = await daemon.cli(['set', 'API_KEY', 'sk-in-argv']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('from a hidden prompt or from stdin, never from the command line');
    expect(result.stderr).toContain('`envmount set API_KEY`');
    expect(result.stderr).not.toContain('sk-in-argv');
  });

  it('bash completion, generated from the commands: sourced by bash, it completes commands, options, choices', async () => {
    const complete = (...words: string[]) =>
      `COMP_WORDS=(envmount ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; COMPREPLY=(); _envmount; echo "\${COMPREPLY[*]}"`;
    const script = [
      `source <(${process.execPath} ${CLI} completion bash)`,
      complete('ser'),
      complete('service', 'st'),
      complete('status', '--j'),
      complete('import', '--m'),
      complete('completion', 'f'),
      complete('add', ''),
    ].join('\n');
    const result = await run('bash', ['-c', script], { env: daemon.env });
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual(['service', 'status', '--json', '--merge', 'fish', '', '']);
    const fish = await daemon.cli(['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c envmount -n '__fish_seen_subcommand_from import' -l merge");
    const zsh = await daemon.cli(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef envmount\nautoload -U \+X bashcompinit && bashcompinit\n/);
    expect((await daemon.cli(['completion', 'tcsh'])).code).toBe(2);
  });

  describe('with a daemon', () => {
    beforeAll(async () => {
      await daemon.start();
    });

    it('set takes the value from stdin, drops one trailing newline, and reports names only', async () => {
      const result = await daemon.cli(['set', 'API_KEY'], { input: 'sk-123\n' });
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('Stored API_KEY (envmount://API_KEY); 0 mounts use it.\n');
      const dir = daemon.project('p', 'K=envmount://API_KEY\n');
      await daemon.cli(['add', dir, '--allow', 'any']);
      expect((await run('cat', [`${dir}/.env`])).stdout).toBe("K='sk-123'\n");
      const update = await daemon.cli(['set', 'API_KEY'], { input: 'sk-456' });
      expect(update.stdout).toBe('Updated API_KEY (envmount://API_KEY); 1 mount uses it.\n');
      expect((await run('cat', [`${dir}/.env`])).stdout).toBe("K='sk-456'\n");
    });

    it('refuses an empty value unless asked, and bad names', async () => {
      const empty = await daemon.cli(['set', 'EMPTY'], { input: '' });
      expect(empty.code).toBe(1);
      expect(empty.stderr).toContain('--allow-empty');
      expect((await daemon.cli(['set', 'EMPTY', '--allow-empty'], { input: '' })).code).toBe(0);
      const bad = await daemon.cli(['set', 'bad name'], { input: 'x' });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('not a valid name');
    });

    it('vars lists names, --json gives data, unset removes', async () => {
      await daemon.cli(['set', 'ZED'], { input: 'zzz' });
      const json = JSON.parse((await daemon.cli(['--json', 'vars'])).stdout);
      expect(json.names).toContain('ZED');
      // --json after the command, too.
      expect(JSON.parse((await daemon.cli(['vars', '--json'])).stdout)).toEqual(json);
      expect((await daemon.cli(['vars'])).stdout).not.toContain('zzz');
      expect((await daemon.cli(['unset', 'ZED'])).code).toBe(0);
      const again = await daemon.cli(['unset', 'ZED']);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('ZED is not in the store');
    });

    it('list and status describe mounts', async () => {
      const list = await daemon.cli(['list']);
      expect(list.stdout).toMatch(/serving\s+\S+\/p\/\.env\s+\(1 variable\)/);
      const status = await daemon.cli(['status']);
      expect(status.stdout).toContain('not dumpable, core dumps off');
      expect(status.stdout).toMatch(/store: +2 values/);
      expect(JSON.parse((await daemon.cli(['status', '--json'])).stdout).daemon.storeNames).toBe(2);
      expect(status.stdout).toMatch(/reads:\s+2/);
    });
  });
});
