/** Finding the executable a command names, the way a shell does, so that a typo fails before any value is fetched. */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { EnvmountError } from '../core/errors.js';

async function executable(path: string): Promise<'yes' | 'missing' | 'not-executable'> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 'missing';
  if (!info.isFile()) return 'not-executable';
  return (await access(path, constants.X_OK).then(
    () => true,
    () => false,
  ))
    ? 'yes'
    : 'not-executable';
}

function notExecutable(command: string, path: string): EnvmountError {
  return new EnvmountError(
    'NOT_EXECUTABLE',
    `Cannot run "${command}": ${path} is not an executable file. Check the path, or run \`chmod +x ${path}\`.`,
  );
}

/** The absolute path of `command`: as given when it holds a slash, else the first executable match on PATH. */
export async function locateCommand(command: string, cwd: string, pathVariable: string | undefined): Promise<string> {
  if (command.length === 0) throw new EnvmountError('USAGE', 'The command after -- is empty.');
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(cwd, command);
    const found = await executable(path);
    if (found === 'yes') return path;
    if (found === 'not-executable') throw notExecutable(command, path);
    throw new EnvmountError('COMMAND_NOT_FOUND', `Cannot run "${command}": ${path} does not exist.`);
  }
  let firstNotExecutable: string | undefined;
  for (const dir of (pathVariable ?? '').split(delimiter)) {
    // An empty PATH entry means the current directory, as in every shell.
    const path = resolve(cwd, join(dir || '.', command));
    const found = await executable(path);
    if (found === 'yes') return path;
    if (found === 'not-executable') firstNotExecutable ??= path;
  }
  if (firstNotExecutable) throw notExecutable(command, firstNotExecutable);
  throw new EnvmountError(
    'COMMAND_NOT_FOUND',
    `Cannot run "${command}": no such command on PATH. Check its spelling, or give its path (./${command}).`,
  );
}
