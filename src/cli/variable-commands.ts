/** `envmount set | unset | vars`: values go in through a hidden prompt or stdin, and only names come out. */
import { EnvmountError } from '../core/errors.js';
import { storeNameProblem } from '../core/reference.js';
import { type CliContext, type CommandOutput, withClient } from './context.js';
import { count } from './format.js';

export async function set(
  ctx: CliContext,
  name: string,
  options: { raw?: boolean; allowEmpty?: boolean; extra?: number },
): Promise<CommandOutput> {
  if (options.extra) {
    // `envmount set NAME VALUE`: the value is already in the shell's history and in `ps`; say where it belongs.
    throw new EnvmountError(
      'USAGE',
      `envmount set takes the value from a hidden prompt or from stdin, never from the command line (there it stays in your shell history and shows in \`ps\`). Run \`envmount set ${name}\` and type it, or pipe it in: \`printf %s "$VALUE" | envmount set ${name}\`.`,
    );
  }
  const problem = storeNameProblem(name);
  if (problem) throw new EnvmountError('USAGE', `Cannot set: ${problem}.`);
  const client = await ctx.connect();
  let value: Buffer | undefined;
  try {
    value = await ctx.readSecret(`Value for ${name} (input hidden): `, { raw: options.raw ?? false });
    if (value.length === 0 && !options.allowEmpty) {
      throw new EnvmountError(
        'VALUE_EMPTY',
        `No value was given for ${name}; nothing was stored. Pass --allow-empty to store an empty value.`,
      );
    }
    const result = await client.request('set', { name, valueBase64: value.toString('base64') });
    const used = `${count(result.mounts, 'mount')} ${result.mounts === 1 ? 'uses' : 'use'} it`;
    return { data: result, text: `${result.created ? 'Stored' : 'Updated'} ${name} (envmount://${name}); ${used}.` };
  } finally {
    value?.fill(0);
    client.close();
  }
}

export function unset(ctx: CliContext, name: string): Promise<CommandOutput> {
  return withClient(ctx, async (client) => {
    const result = await client.request('unset', { name });
    if (!result.removed) throw new EnvmountError('NOT_FOUND', `${name} is not in the store. See \`envmount vars\`.`);
    return { data: result, text: `Removed ${name}.` };
  });
}

export function vars(ctx: CliContext): Promise<CommandOutput> {
  return withClient(ctx, async (client) => {
    const result = await client.request('vars', {});
    return {
      data: result,
      text: result.names.length ? result.names.join('\n') : 'The store is empty. Add a value with `envmount set NAME`.',
    };
  });
}
