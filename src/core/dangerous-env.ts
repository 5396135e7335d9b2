/**
 * Environment names that change which code a program loads or how its interpreter starts. `envmount run` refuses
 * to set them from a secret source unless the user names each one (`--allow-dangerous NAME`): a template that
 * sets LD_PRELOAD or NODE_OPTIONS runs code in every child, which is not what "inject my API key" means.
 */
const EXACT = new Set([
  // Dynamic loaders and the C library.
  'GCONV_PATH',
  'LOCPATH',
  'MALLOC_CONF',
  'HOSTALIASES',
  // Shells.
  'BASH_ENV',
  'ENV',
  'PROMPT_COMMAND',
  'SHELLOPTS',
  'BASHOPTS',
  'PS4',
  'IFS',
  'CDPATH',
  'PATH',
  // Interpreters and runtimes.
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_REPL_EXTERNAL_MODULE',
  'ELECTRON_RUN_AS_NODE',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONSTARTUP',
  'PYTHONINSPECT',
  'PERL5LIB',
  'PERL5OPT',
  'PERLLIB',
  'RUBYOPT',
  'RUBYLIB',
  'LUA_PATH',
  'LUA_CPATH',
  'PHPRC',
  'PHP_INI_SCAN_DIR',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'DOTNET_STARTUP_HOOKS',
  // Tools that run commands named in their environment.
  'GIT_EXEC_PATH',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_ASKPASS',
  'SSH_ASKPASS',
  'EDITOR',
  'VISUAL',
  'PAGER',
]);
const PREFIXES = ['LD_', 'DYLD_', 'BASH_FUNC_'];

export function isDangerousName(name: string): boolean {
  return EXACT.has(name) || PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** The names among `names` that are dangerous and not explicitly allowed, in order, without repeats. */
export function refusedNames(names: readonly string[], allowed: readonly string[]): string[] {
  const allow = new Set(allowed);
  return [...new Set(names)].filter((name) => isDangerousName(name) && !allow.has(name));
}
