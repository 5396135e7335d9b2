/**
 * The user service, as data: the unit files and the LaunchAgent made from the templates shipped in systemd/ and
 * launchd/ (with the absolute paths of this node and this install), what the service manager says about the
 * service, and the shape of `envmount service` results. Pure: the service part does the files and the commands.
 */

export type ServiceManagerKind = 'systemd' | 'launchd';

export const SYSTEMD_UNIT = 'envmountd.service';
export const SYSTEMD_CLEANUP_UNIT = 'envmountd-cleanup.service';
export const LAUNCHD_LABEL = 'dev.envmount.envmountd';

/** Where the templates point, replaced by the real paths. */
const TEMPLATE_NODE = { systemd: '/usr/bin/node', launchd: '/usr/local/bin/node' } as const;
const TEMPLATE_INSTALL = {
  systemd: '/usr/lib/node_modules/envmount',
  launchd: '/usr/local/lib/node_modules/envmount',
} as const;
const TEMPLATE_HOME = '/Users/you';

export interface UnitPaths {
  /** This node executable. */
  readonly node: string;
  /** The package root of this install (holds dist/bin/envmountd.js). */
  readonly install: string;
  readonly home: string;
  /** Variables the daemon must see as the CLI does (XDG_*, ENVMOUNT_*): never a secret. */
  readonly environment: Readonly<Record<string, string>>;
}

function quoteSystemd(path: string): string {
  return /[\s"'\\%$]/.test(path)
    ? `"${path.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%')}"`
    : path;
}

/** A systemd unit template with this install's paths; `Environment=` lines added to [Service]. */
export function renderSystemdUnit(template: string, paths: UnitPaths): string {
  const node = quoteSystemd(paths.node);
  const script = quoteSystemd(`${paths.install}/dist/bin/envmountd.js`);
  let text = template
    .replaceAll(`${TEMPLATE_NODE.systemd} ${TEMPLATE_INSTALL.systemd}/dist/bin/envmountd.js`, `${node} ${script}`)
    .replace(/^(#.*\n)+(?=\[Unit\])/, '');
  // In unit files `%` starts a specifier; config keeps quotes, backslashes and newlines out of the values.
  const lines = Object.entries(paths.environment).map(
    ([name, value]) => `Environment="${name}=${value.replaceAll('%', '%%')}"`,
  );
  if (lines.length > 0) text = text.replace(/^\[Service\]\n/m, `[Service]\n${lines.join('\n')}\n`);
  return `# Written by \`envmount service install\`; \`envmount service uninstall\` removes it.\n${text}`;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The LaunchAgent template with this install's paths and an EnvironmentVariables dict. */
export function renderLaunchAgent(template: string, paths: UnitPaths): string {
  let text = template
    .replaceAll(`<string>${TEMPLATE_NODE.launchd}</string>`, `<string>${escapeXml(paths.node)}</string>`)
    .replaceAll(TEMPLATE_INSTALL.launchd, escapeXml(paths.install))
    .replaceAll(TEMPLATE_HOME, escapeXml(paths.home))
    .replace(/<!-- envmountd as a LaunchAgent[\s\S]*?-->\n/, '');
  const entries = Object.entries(paths.environment);
  if (entries.length > 0) {
    const dict = entries.map(([k, v]) => `    <key>${escapeXml(k)}</key>\n    <string>${escapeXml(v)}</string>`);
    text = text.replace(
      /\n<\/dict>\n<\/plist>/,
      `\n  <key>EnvironmentVariables</key>\n  <dict>\n${dict.join('\n')}\n  </dict>\n</dict>\n</plist>`,
    );
  }
  return text;
}

/** What the service manager says about the service. */
export interface ServiceState {
  readonly manager: ServiceManagerKind;
  /**
   * Undefined when the service manager answers; otherwise why it cannot run the service here (no systemd user
   * manager: a container, WSL, CI), and nothing else in this state comes from it.
   */
  readonly unavailable: string | undefined;
  /** Started, and not answering yet (systemd: activating, or waiting to restart after a crash). */
  readonly starting: boolean;
  readonly installed: boolean;
  /** Installed, but not as `service install` would write it now: another node, another install, an older unit. */
  readonly stale: boolean;
  /** The unit file or plist. */
  readonly file: string;
  readonly running: boolean;
  readonly pid: number | undefined;
  /** Since when it runs (from the service manager). */
  readonly since: string | undefined;
  readonly restarts: number | undefined;
  /** How its last run ended, when not cleanly, or the last error it logged. */
  readonly lastError: string | undefined;
}

/** One thing `service install` or `uninstall` did (or found already done). */
export interface ServiceAction {
  readonly did: string;
  readonly changed: boolean;
}

/** `systemctl show -p ...` output: KEY=VALUE lines. */
export function parseSystemctlShow(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

/** `launchctl print gui/UID/LABEL` output: the top-level `key = value` lines of the service. */
export function parseLaunchctlPrint(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of text.matchAll(/^\t([a-z][a-z ]*?) = (.*)$/gm)) {
    const [, key, value] = match;
    if (key && value !== undefined && !(key in out)) out[key] = value;
  }
  return out;
}

/** `envmount service`, as the CLI sees it (implemented in src/service, wired in src/bin). */
export interface ServiceControl {
  readonly kind: ServiceManagerKind;
  /**
   * Writes the unit (or plist), enables and starts it; does only what is not done yet. SERVICE_UNAVAILABLE, before
   * writing anything, when no service manager answers.
   */
  install(): Promise<{ actions: ServiceAction[]; state: ServiceState }>;
  /**
   * Stops and disables it and removes its files; nothing to do when it is not installed. A failure of the service
   * manager is an error (the files stay); with no service manager at all, only the files are removed.
   */
  uninstall(): Promise<{ actions: ServiceAction[] }>;
  state(): Promise<ServiceState>;
  /**
   * The daemon's recent log lines, or with `follow` streams them to our stdout until interrupted (exit code).
   * SERVICE_UNAVAILABLE, naming where the logs are instead, when no journal or log file has them.
   */
  logs(options: { lines: number; follow: boolean }): Promise<{ text: string } | { exitCode: number }>;
}
