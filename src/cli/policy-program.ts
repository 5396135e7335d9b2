/** The commands about who may read: policy, approvals, approve, deny; and the policy flags add and import share. */
import type { Command } from 'commander';
import { approveCommand } from './approve-each.js';
import type { CliContext, CommandOutput } from './context.js';
import { approvals, deny, policy } from './policy-commands.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

type Run = <A extends unknown[]>(fn: (...args: A) => Promise<CommandOutput>) => (...args: A) => Promise<void>;

/** --allow / --deny / --otherwise / --agents, shared by add, import and policy. */
export function policyOptions(command: Command, allowHelp: string, otherwiseHelp: string): Command {
  return command
    .option('--allow <rule>', allowHelp, collect)
    .option('--deny <rule>', 'refuse these readers (they get comment lines; deny wins over allow)', collect)
    .option('--otherwise <ask|deny|allow>', otherwiseHelp)
    .option(
      '--agents <ask|deny|rules>',
      'readers started by a coding agent: ask (default: always asked, served only by a grant or a script: rule), deny, or rules (as any reader)',
    );
}
export const RULES_HELP =
  'RULE: any | NAME or exe:GLOB (the executable) | argv:GLOB (the command line) | ancestor:GLOB (a parent process) | script:GLOB (the script an interpreter runs; ./ is the mount directory) | exe:GLOB script:GLOB; repeatable';

export function policyCommands(program: Command, ctx: CliContext, run: Run): void {
  policyOptions(
    program
      .command('policy [dir]')
      .description(
        "show or change who may read a mount: with no flags, its rules, grants and what decided the last reads; flags add to its rules (--reset starts from 'ask')",
      )
      .option('--remove <rule>', 'remove one rule, as listed ("deny exe:cat", or just "cat"); repeatable', collect)
      .option('--reset', 'drop every rule and every --for grant first'),
    RULES_HELP,
    'what readers no rule matches get: ask (default), deny or allow',
  ).action(
    run(
      (
        dir: string | undefined,
        o: {
          allow?: string[];
          deny?: string[];
          otherwise?: string;
          agents?: string;
          remove?: string[];
          reset?: boolean;
        },
      ) => policy(ctx, dir, o),
    ),
  );
  program
    .command('approvals')
    .description('reads waiting for your approval, and who is asking')
    .action(run(() => approvals(ctx)));
  program
    .command('approve [id]')
    .description('let a waiting read through (asks on your terminal); no ID: each waiting read in turn')
    .option(
      '--for <duration>',
      'and let the same reader (interpreter + script, or executable) read this mount for a while (30s, 10m, 8h, 7d)',
    )
    .option(
      '--always',
      'and always: stores the narrowest rule naming the reader, printed before you confirm (not for inline code)',
    )
    .action(run((id: string | undefined, o: { for?: string; always?: boolean }) => approveCommand(ctx, id, o)));
  program
    .command('deny <id>')
    .description('refuse a waiting read (the reader gets comment lines)')
    .action(run((id: string) => deny(ctx, id)));
}
