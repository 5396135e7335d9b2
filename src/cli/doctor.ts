/**
 * `envmount doctor`: checks the daemon, the service, every mount on disk (a pipe, ours, 0600, not a regular file,
 * not left behind by a dead daemon, not tracked by git; a regular file there: ignored by git) and the 1Password
 * source, and prints the fix for each problem. Exit 1 when there is one. Names and paths only: it never opens a mount (that would be a read).
 */
import { lstat, readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, dirname } from 'node:path';
import type { OnePasswordStatus } from '../control/protocol.js';
import { errnoCode, isEnvmountError } from '../core/errors.js';
import { noNewPrivsIn } from '../core/proc-status.js';
import type { ServiceState } from '../core/service-units.js';
import { isSharedDirectory, privateGroupOf, sharedDirectoryReason } from '../core/shared-directory.js';
import type { CliContext, CommandOutput } from './context.js';
import { backendFindings, type DoctorMount, type Finding, fuseMountFindings } from './doctor-fuse.js';
import { daemonView, lingerNote, restartCommand } from './service-commands.js';

export type { Finding };

const ok = (subject: string, says: string): Finding => ({ subject, ok: true, says });
const problem = (subject: string, says: string, fix: string): Finding => ({ subject, ok: false, says, fix });

async function serviceState(ctx: CliContext): Promise<ServiceState | string> {
  try {
    return await ctx.service.state();
  } catch (error) {
    if (isEnvmountError(error)) return error.message;
    throw error;
  }
}

/** The service check. A daemon started by hand (no service, or no service manager here) is information. */
async function serviceFindings(
  ctx: CliContext,
  service: ServiceState | string,
  pid: number | undefined,
  restart: string,
): Promise<Finding[]> {
  if (typeof service === 'string') return [problem('service', service, '`envmountd start` at login')];
  const byHand = pid !== undefined && !service.running;
  if (service.unavailable)
    return [
      ok(
        'service',
        `none here (${service.unavailable}): ${byHand ? `envmountd was started by hand (pid ${pid}); ` : ''}nothing restarts it after a crash or starts it at login`,
      ),
    ];
  if (!service.installed)
    return [
      byHand
        ? ok(
            'service',
            `not installed; envmountd was started by hand (pid ${pid}). \`envmount service install\` would restart it after a crash and start it at login`,
          )
        : problem(
            'service',
            'not installed: after a crash or a reboot nothing serves your mounts',
            '`envmount service install`',
          ),
    ];
  if (service.stale)
    return [
      problem(
        'service',
        `${service.file} was written for another node or install than this one (or by an older envmount)`,
        '`envmount service install` (writes it anew and restarts the daemon)',
      ),
    ];
  if (service.starting) return [ok('service', `${service.manager}, starting`)];
  if (!service.running)
    return [
      problem(
        'service',
        `installed but not running${service.lastError ? `: ${service.lastError}` : ''}`,
        `${restart}; see \`envmount service logs\``,
      ),
    ];
  const linger = await lingerNote(ctx, service);
  return [
    ok('service', `${service.manager}, running (pid ${service.pid ?? '?'})`),
    ...(linger ? [ok('service', linger)] : []),
  ];
}

async function mountsFromRegistry(file: string): Promise<DoctorMount[]> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { mounts?: DoctorMount[] };
    return parsed.mounts ?? [];
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
}

async function git(ctx: CliContext, dir: string, args: string[]): Promise<number> {
  return (await ctx.exec('git', ['-C', dir, ...args], { cwd: dir })).code;
}

/** The user's private group, whose write bit on a directory is no other user's (core/shared-directory.ts). */
async function privateGroup(): Promise<number> {
  const read = (file: string) => readFile(file, 'utf8').catch(() => '');
  return privateGroupOf(userInfo(), await read('/etc/group'), await read('/etc/passwd'));
}

/** StrictModes: the mount's directory must not be writable by other users (unless it opted in). */
async function checkDirectory(m: DoctorMount, uid: number): Promise<Finding | undefined> {
  const info = await stat(dirname(m.path)).catch(() => undefined);
  if (!info || m.allowSharedDir || !isSharedDirectory(info, uid, await privateGroup())) return undefined;
  const reason = sharedDirectoryReason(m.path, dirname(m.path), m.dir, info, uid);
  return problem(
    m.path,
    `paused: ${reason}`,
    `\`chmod go-w ${dirname(m.path)}\` (or \`envmount add ${m.dir} --allow-shared-dir\`)`,
  );
}

async function checkMount(ctx: CliContext, m: DoctorMount, up: boolean, uid: number) {
  const findings: Finding[] = [];
  const shared = await checkDirectory(m, uid);
  if (shared) findings.push(shared);
  findings.push(...backendFindings(m));
  const fuse = m.backend === 'fuse';
  if (fuse) findings.push(...(await fuseMountFindings(m, up, uid)));
  const st = fuse
    ? undefined
    : await lstat(m.path).catch((error: unknown) => {
        if (errnoCode(error) === 'ENOENT') return undefined;
        throw error;
      });
  if (fuse) {
    // A FUSE mount is a regular file to git: it must be ignored (add --backend fuse sees to it).
  } else if (!st) {
    findings.push(
      up
        ? problem(m.path, 'no pipe is there', `\`envmount add ${m.dir}\``)
        : problem(m.path, 'no pipe is there (the daemon is down: it puts it back when it starts)', '`envmountd start`'),
    );
  } else if (st.isFile()) {
    findings.push(
      problem(
        m.path,
        'a regular file is there: whatever it holds is on disk in plaintext',
        `\`envmount import ${m.dir} --merge\` moves its values into the store, adds their references to the template and mounts the pipe in its place`,
      ),
    );
  } else if (!st.isFIFO()) {
    findings.push(
      problem(m.path, 'something other than a pipe is there', `move it away, then \`envmount add ${m.dir}\``),
    );
  } else {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    if (st.uid !== uid)
      findings.push(
        problem(
          m.path,
          `the pipe belongs to uid ${st.uid}, not you`,
          `\`rm ${m.path}\`, then \`envmount add ${m.dir}\``,
        ),
      );
    else if ((st.mode & 0o777) !== 0o600)
      findings.push(problem(m.path, `the pipe has mode ${mode}: other users may open it`, `\`chmod 600 ${m.path}\``));
    else if (!up)
      findings.push(
        problem(
          m.path,
          'a pipe left by a daemon that is not running: a program that reads it waits until envmountd is back',
          '`envmountd start` serves it again; or `envmountd cleanup` lets waiting readers go (with a comment line) and removes the pipes until the next start',
        ),
      );
    else findings.push(ok(m.path, 'a pipe, yours, mode 0600'));
  }
  const name = basename(m.path);
  const inRepo = await git(ctx, m.dir, ['rev-parse', '--is-inside-work-tree']);
  if (inRepo === 127) findings.push(ok(m.path, 'git is not installed: tracking not checked'));
  if (inRepo !== 0) return findings;
  const tracked = (await git(ctx, m.dir, ['ls-files', '--error-unmatch', '--', name])) === 0;
  if (tracked) {
    findings.push(
      problem(
        m.path,
        'tracked by git: what it held when committed is in the history',
        `\`git -C ${m.dir} rm --cached ${name}\` and commit; rotate the values it held`,
      ),
    );
  }
  // git skips named pipes (`git add .` stages nothing there): only a regular file at the path can be staged.
  if (!fuse && !st?.isFile()) {
    if (!tracked) findings.push(ok(m.path, 'not tracked by git, and `git add .` leaves a named pipe out'));
  } else if ((await git(ctx, m.dir, ['check-ignore', '-q', '--no-index', '--', name])) !== 0) {
    findings.push(
      problem(m.path, 'not ignored by git: `git add .` would stage it', `\`echo ${name} >> ${m.dir}/.gitignore\``),
    );
  } else findings.push(ok(m.path, 'ignored by git'));
  return findings;
}

/** Whether a process runs with no_new_privs (systemd's NoNewPrivileges=yes), from /proc; undefined off Linux. */
export async function noNewPrivileges(pid: number): Promise<boolean | undefined> {
  try {
    return noNewPrivsIn(await readFile(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The 1Password findings: the source's state (stale and failing are problems: readers get old values, or none),
 * and the op CLI where it cannot work: under no_new_privs (the systemd unit's NoNewPrivileges=yes) Linux ignores
 * op's setgid `onepassword-cli` bit, which the 1Password app checks before it accepts op, and a service never sees
 * the `OP_SESSION_*` variables of `op signin`.
 */
export function onePasswordFindings(
  op: OnePasswordStatus | undefined,
  daemon: { noNewPrivs: boolean | undefined; underService: boolean },
): Finding[] {
  if (!op) return [ok('1Password', 'not configured: values come from the embedded store')];
  const findings: Finding[] = [];
  if (op.provider.startsWith('op CLI') && daemon.noNewPrivs) {
    const session = daemon.underService
      ? ', and a service never sees the OP_SESSION_* of `op signin` in your shell'
      : '';
    findings.push(
      problem(
        '1Password',
        `${op.provider} cannot sign in from here: envmountd runs with NoNewPrivileges, so Linux ignores op's setgid "onepassword-cli" bit and the 1Password app refuses op${session}`,
        '`envmount login --service-account` or `envmount login --account NAME` (the SDK needs neither), or run the daemon in your session: `envmountd start`',
      ),
    );
  }
  const why = op.lastError ?? op.state;
  if (op.state === 'failing')
    findings.push(problem('1Password', `${op.provider}: ${why}`, op.fix ?? '`envmount login`'));
  else if (op.state === 'stale')
    findings.push(
      problem(
        '1Password',
        `${op.provider}: stale, serving the values of ${op.lastSuccessAt ?? 'the last refresh'} until the grace period ends: ${why}`,
        op.fix ?? '`envmount refresh` once 1Password can be reached',
      ),
    );
  else if (findings.length === 0) findings.push(ok('1Password', `${op.provider}: ${op.state}`));
  return findings;
}

export async function doctor(ctx: CliContext): Promise<CommandOutput> {
  const findings: Finding[] = [];
  const view = await daemonView(ctx);
  const service = await serviceState(ctx);
  const restart = typeof service === 'string' ? '`envmountd start`' : restartCommand(service);
  if (view) findings.push(ok('envmountd', `answers on ${ctx.socketPath} (pid ${view.daemon.pid})`));
  else {
    const start =
      typeof service !== 'string' && (service.installed || service.unavailable)
        ? restart
        : '`envmount service install` (or `envmountd start`)';
    // A pipe left at a mount path (a crash) holds its readers; after a clean stop the pipes are gone.
    const mounts = await mountsFromRegistry(ctx.registryFile);
    const pipes = await Promise.all(
      mounts.map((m) =>
        lstat(m.path).then(
          (st) => st.isFIFO(),
          () => false,
        ),
      ),
    );
    const says = pipes.some(Boolean)
      ? 'not running: readers of its mounts wait until it is back'
      : 'not running: its mounts have no pipe now (readers get "No such file or directory")';
    findings.push(problem('envmountd', says, start));
  }
  findings.push(...(await serviceFindings(ctx, service, view?.daemon.pid, restart)));

  const mounts = view ? view.mounts : await mountsFromRegistry(ctx.registryFile);
  for (const m of mounts) findings.push(...(await checkMount(ctx, m, Boolean(view), ctx.uid)));

  if (view) {
    const underService = typeof service !== 'string' && service.running && service.pid === view.daemon.pid;
    const noNewPrivs = await noNewPrivileges(view.daemon.pid);
    findings.push(...onePasswordFindings(view.daemon.onePassword, { noNewPrivs, underService }));
  }

  const problems = findings.filter((f) => !f.ok);
  const text = findings.map((f) =>
    f.ok ? `ok       ${f.subject}: ${f.says}` : `PROBLEM  ${f.subject}: ${f.says}\n         fix: ${f.fix}`,
  );
  text.push(
    problems.length === 0
      ? 'No problems found.'
      : `${problems.length} problem${problems.length === 1 ? '' : 's'} found.`,
  );
  return { data: { findings, problems: problems.length }, text: text.join('\n'), failed: problems.length > 0 };
}
