/**
 * The one table of what 1Password's two clients emit when they fail, and what envmount makes of it. Each entry
 * names where its text was seen; the providers classify with it (classify-error.ts: fixed text only, quoted names
 * blanked first) and the test fakes emit its examples, so the code and the fakes cannot drift apart.
 */
import type { FailureKind } from './provider.js';

/** `reference`: the message is about one reference (or vault, item, field); anything else fails the whole call. */
export type ErrorClass = FailureKind | 'reference';

export interface ErrorEntry {
  readonly id: string;
  /** Where this text was seen. */
  readonly source: string;
  /** One of: compared case-insensitively with the message once its prefix is cut and its quoted names blanked. */
  readonly prefix?: string;
  readonly suffix?: string;
  readonly phrase?: string;
  /** The message as the client emits it (what the fakes emit); the matched text when absent. */
  readonly example?: string;
  readonly kind: ErrorClass;
  /** What envmount says (no names, no values). */
  readonly reason: string;
  /** The command that fixes it; for SDK auth entries without one, the provider's own (token or desktop app). */
  readonly fix?: string;
}

const CORE = '@1password/sdk 0.5.0 wasm core';
const SIGN_IN = `${CORE}: createClient against a local HTTPS stand-in for /api/v3/auth/start answering HTTP`;
const STRINGS = `${CORE}: its message strings (after sign-in)`;
const ISSUE = 'op v2 output as reported in issue 20';
const HTTP = 'op v2: HTTP errors print as "(STATUS) Text: ..." (the form of op-429)';
const OFFLINE = '1Password cannot be reached (no network, DNS or connection)';
const NOT_A_TOKEN = 'the stored text is not a service account token';

/** `@1password/sdk` 0.5.0: its JS wrapper turns every core error but DesktopSessionExpired and RateLimitExceeded
 * into a plain Error carrying the core's message, so the rest are told apart by the message's fixed text. */
export const SDK_ERRORS: readonly ErrorEntry[] = [
  {
    id: 'sdk-offline',
    source: `${CORE}: createClient with no network, and with the connection refused`,
    prefix: 'authentication error: request library compatibility issue',
    example:
      'authentication error: request library compatibility issue, check that the your environment uses compatible versions: reqwest library: error sending request',
    kind: 'unavailable',
    reason: OFFLINE,
  },
  {
    id: 'sdk-sign-in-429',
    source: `${SIGN_IN} 429`,
    prefix: 'authentication error: rate limit exceeded',
    kind: 'rate-limited',
    reason: '1Password rate limit reached at sign-in',
  },
  ...[
    ['500', 'internal server error', "1Password's server failed (HTTP 500)"],
    ['408', 'request timeout', '1Password timed out'],
  ].map(
    ([status, text, reason]): ErrorEntry => ({
      id: `sdk-sign-in-${status}`,
      source: `${SIGN_IN} ${status}`,
      prefix: `authentication error: ${text}`,
      kind: 'unavailable',
      reason: reason ?? '',
    }),
  ),
  {
    id: 'sdk-sign-in-5xx',
    source: `${SIGN_IN} 502 and 503`,
    prefix: 'authentication error: unexpected status code in response: 5',
    example: 'authentication error: unexpected status code in response: 503 Service Unavailable',
    kind: 'unavailable',
    reason: "1Password's server is unavailable (HTTP 5xx)",
  },
  {
    id: 'sdk-sign-in-401',
    source: `${SIGN_IN} 401 (a revoked or deleted token)`,
    prefix: 'authentication error: you are not authenticated',
    kind: 'auth',
    reason: '1Password refused the sign-in (token revoked or deleted?)',
  },
  {
    id: 'sdk-sign-in-403',
    source: `${SIGN_IN} 403`,
    prefix: "authentication error: you don't have the right permissions",
    example: "authentication error: you don't have the right permissions to access this resource",
    kind: 'auth',
    reason: '1Password refused the sign-in (no permission)',
  },
  {
    id: 'sdk-token-rejected',
    source: `${SIGN_IN} 200, to a well-formed token of made-up keys`,
    prefix: 'authentication error: bad service account token',
    example:
      'authentication error: bad service account token, please rotate it: invalid user auth parameters within token',
    kind: 'auth',
    reason: '1Password rejected the service account token',
  },
  {
    id: 'sdk-token-malformed',
    source: `${CORE}: createClient offline with "ops_" and text that is not a token`,
    prefix: 'invalid service account token',
    example:
      'invalid service account token, please make sure you provide a valid service account token as parameter:  service account token base64 decoding failed, please create another token',
    kind: 'auth',
    reason: NOT_A_TOKEN,
  },
  {
    id: 'sdk-token-format',
    source: `${CORE}: createClient offline with a token without "ops_"`,
    prefix: 'invalid user input: encountered the following errors: service account token',
    example: 'invalid user input: encountered the following errors: service account token had invalid format',
    kind: 'auth',
    reason: NOT_A_TOKEN,
  },
  {
    id: 'sdk-integration',
    source: `${CORE}: createClient with integrationVersion "0.1.0+abc" (also "!", and 21 characters)`,
    prefix: 'invalid user input: encountered the following errors: integration',
    example: "invalid user input: encountered the following errors: integration version contained unallowed char: '+'",
    kind: 'unavailable',
    reason: "the SDK refused envmount's own name or version (a bug: report it)",
  },
  {
    id: 'sdk-desktop-missing',
    source: '@1password/sdk 0.5.0 dist/shared_lib_core.js: DesktopAuth where the 1Password app is not installed',
    prefix: 'Native library is not available',
    example: 'Native library is not available.',
    kind: 'unavailable',
    reason: 'the 1Password desktop app is not installed here (no libop_sdk_ipc_client)',
    fix: 'install and unlock the 1Password app (Settings > Developer > Integrate with other apps), or use `envmount login --service-account`',
  },
  {
    id: 'sdk-rate-limit',
    source: `${CORE}: error name RateLimitExceeded (RateLimitExceededError)`,
    prefix: 'rate limit exceeded',
    kind: 'rate-limited',
    reason: '1Password rate limit reached',
  },
  { id: 'sdk-401', source: STRINGS, prefix: 'you are not authenticated', kind: 'auth', reason: 'sign-in ended' },
  {
    id: 'sdk-inactive',
    source: STRINGS,
    prefix: 'operation failed due to inactive session',
    kind: 'auth',
    reason: 'the 1Password session is no longer active',
  },
  { id: 'sdk-500', source: STRINGS, prefix: 'internal server error', kind: 'unavailable', reason: 'server failed' },
  {
    id: 'sdk-status',
    source: STRINGS,
    prefix: 'unexpected status code in response',
    example: 'unexpected status code in response: 502 Bad Gateway',
    kind: 'unavailable',
    reason: "1Password's server answered with an error",
  },
  { id: 'sdk-network', source: STRINGS, phrase: 'error sending request', kind: 'unavailable', reason: OFFLINE },
  { id: 'sdk-timeout', source: STRINGS, prefix: 'request timeout', kind: 'unavailable', reason: '1Password timed out' },
  {
    id: 'sdk-not-found',
    source: `${STRINGS}: HTTP 404, an Environment that is not there`,
    prefix: 'resource not found',
    kind: 'reference',
    reason: 'not found (or not shared with this account)',
  },
  {
    id: 'sdk-forbidden',
    source: `${STRINGS}: HTTP 403`,
    prefix: "you don't have the right permissions",
    example: "you don't have the right permissions to access this resource",
    kind: 'reference',
    reason: 'this account has no access to it',
  },
];

const SIGNED_OUT_FIX =
  'turn on the 1Password app integration (Settings > Developer > Integrate with 1Password CLI) or sign in where envmountd runs (`op signin`), then `envmount refresh`';
const auth = (id: string, source: string, prefix: string, reason: string, example?: string): ErrorEntry => ({
  id,
  source,
  prefix,
  kind: 'auth',
  reason,
  fix: SIGNED_OUT_FIX,
  ...(example ? { example } : {}),
});

/** op v2 (`op inject`): one line on stderr, `[ERROR] YYYY/MM/DD HH:MM:SS message`, exit code 1 for every failure. */
export const OP_ERRORS: readonly ErrorEntry[] = [
  auth(
    'op-signed-out',
    'op v2 signed out (the message in op signin --help flows)',
    'You are not currently signed in',
    'op is signed out',
    'You are not currently signed in. Please run `op signin --help` for instructions',
  ),
  auth('op-account', 'op v2 in ublue-os/homebrew-tap#208', 'account is not signed in', 'op is signed out'),
  {
    ...auth('op-no-accounts', ISSUE, 'No accounts configured for use with 1Password CLI', 'op has no account'),
    example: 'No accounts configured for use with 1Password CLI.',
    fix: 'turn on the 1Password app integration (Settings > Developer > Integrate with 1Password CLI) or `op account add`, then `envmount refresh`',
  },
  auth('op-invalid-session', ISSUE, 'Invalid session token', "op's session ended"),
  auth(
    'op-session-expired',
    'op v2: a manual session ends after 30 minutes idle (developer.1password.com/docs/cli/sign-in-manually)',
    'session expired',
    "op's session expired",
    'session expired, sign in to create a new session',
  ),
  {
    ...auth('op-dismissed', 'op v2 app integration', 'authorization prompt dismissed', 'the app prompt was dismissed'),
    example: 'authorization prompt dismissed, please try again',
    fix: 'run `envmount refresh` and approve the prompt of the 1Password app',
  },
  {
    ...auth(
      'op-app',
      'op v2 in NixOS/nixpkgs#258139',
      'connecting to desktop app',
      'op cannot reach the 1Password app',
    ),
    example: "connecting to desktop app: 1Password CLI couldn't connect to the 1Password desktop app.",
    fix: 'open and unlock the 1Password app (Settings > Developer > Integrate with 1Password CLI), then `envmount refresh`',
  },
  {
    id: 'op-429',
    source: 'op v2 in zcutlip/pyonepassword#137 (a service account throttled)',
    prefix: '(429)',
    example:
      "(429) Too Many Requests: You've reached the maximum number of this type of requests this service account is allowed to make. Please retry in 58 minutes or try other requests.",
    kind: 'rate-limited',
    reason: '1Password rate limit reached (op)',
  },
  { ...auth('op-401', HTTP, '(401)', '1Password refused op'), example: '(401) Unauthorized: not authorized' },
  ...['(500)', '(502)', '(503)', '(504)'].map(
    (prefix): ErrorEntry => ({
      id: `op-${prefix.slice(1, 4)}`,
      source: HTTP,
      prefix,
      example: `${prefix} Service Unavailable: try again later`,
      kind: 'unavailable',
      reason: "1Password's server failed (op)",
    }),
  ),
  // Go's network errors end op's message; what comes before them may name the item op was reading.
  ...[
    'network is unreachable',
    'no such host',
    'connection refused',
    'connection reset by peer',
    'i/o timeout',
    'TLS handshake timeout',
    'context deadline exceeded',
    'Client.Timeout exceeded while awaiting headers)',
  ].map(
    (suffix): ErrorEntry => ({
      id: `op-net-${suffix.split(' ')[0]}`,
      source: `${ISSUE} ("could not resolve item: ... network is unreachable"); the endings are Go's net errors`,
      suffix,
      example: `could not resolve item: Get "https://my.1password.com/api/v2/vault": dial tcp: ${suffix}`,
      kind: 'unavailable',
      reason: `${OFFLINE} (op)`,
    }),
  ),
  {
    id: 'op-no-item',
    source: `${ISSUE}; op v2 in alfredapp/1password-workflow#53`,
    phrase: "isn't an item in ",
    example: 'could not resolve item UUID for item "locked-box": "locked-box" isn\'t an item in the "dev" vault',
    kind: 'reference',
    reason: 'no such item',
  },
  {
    id: 'op-no-vault',
    source: 'op v2: a vault name that is not there',
    phrase: "isn't a vault in ",
    example: '"nope" isn\'t a vault in this account. Specify the vault with its ID or name.',
    kind: 'reference',
    reason: 'no such vault',
  },
  {
    id: 'op-no-field',
    source: 'op v2: a field name that is not there',
    phrase: "isn't a field in ",
    example: 'could not read secret: error finding field: "nope" isn\'t a field in the "box" item',
    kind: 'reference',
    reason: 'no such field',
  },
  {
    id: 'op-ambiguous',
    source: 'op v2 in 1Password/op-vscode#218 ("More than one item matches")',
    phrase: 'More than one ',
    example: 'could not resolve item UUID for item "AWS": More than one item matches "AWS". Try again with its ID',
    kind: 'reference',
    reason: 'more than one match; use the ID',
  },
];
