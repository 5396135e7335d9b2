/**
 * The one error shape of envmount. `code` is stable and machine-readable; `message` names the thing, its state and
 * the command that moves on. Messages name references and variable names, never values.
 */
export type ErrorCode =
  | 'ALREADY_RUNNING'
  | 'BAD_REQUEST'
  | 'COMMAND_NOT_FOUND'
  | 'DAEMON_NOT_RUNNING'
  | 'DANGEROUS_NAME'
  | 'DIRECTORY_MISSING'
  | 'FORBIDDEN'
  | 'FUSE_UNAVAILABLE'
  | 'INTERNAL'
  | 'MOUNT_DISPLACED'
  | 'MOUNT_EXISTS'
  | 'NOT_A_MOUNT'
  | 'NOT_EXECUTABLE'
  | 'NOT_FOUND'
  | 'PATH_IS_SYMLINK'
  | 'PATH_NOT_ALLOWED'
  | 'SHARED_DIRECTORY'
  | 'PROTOCOL_MISMATCH'
  | 'REFERENCE_INVALID'
  | 'REGULAR_FILE_PRESENT'
  | 'REQUEST_TOO_LARGE'
  | 'SERVICE_FAILED'
  | 'SERVICE_UNAVAILABLE'
  | 'STORE_CORRUPT'
  | 'STORE_KEY'
  | 'TEMPLATE_MISSING'
  | 'TEMPLATE_PARSE'
  | 'UNRESOLVED'
  | 'USAGE'
  | 'VALUE_EMPTY';

export class EnvmountError extends Error {
  override readonly name = 'EnvmountError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isEnvmountError(error: unknown): error is EnvmountError {
  return error instanceof EnvmountError;
}

/** The errno code of a Node or addon error ("ENOENT"), if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}
