/**
 * StrictModes for mount directories, as pure rules: whether another user can write a directory (and so rename,
 * exchange or plant entries beside a mount's pipe), and what to tell the user. The daemon (daemon/shared-dir.ts)
 * and `doctor` apply them.
 */
const S_ISVTX = 0o1000;

export interface DirectoryOwnership {
  readonly uid: number;
  readonly mode: number;
}

/** Whether a directory of this owner and mode can be written by a user other than `uid` (and root). */
export function isSharedDirectory(info: DirectoryOwnership, uid: number): boolean {
  if (info.uid !== uid && info.uid !== 0) return true;
  return (info.mode & 0o022) !== 0 && (info.mode & S_ISVTX) === 0;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** What `add`, `status` and `doctor` say about a mount whose directory (`parent`) other users can write. */
export function sharedDirectoryReason(
  path: string,
  parent: string,
  dir: string,
  info: DirectoryOwnership,
  uid: number,
) {
  const foreign = info.uid !== uid && info.uid !== 0;
  const owner = foreign ? `, owned by uid ${info.uid}` : '';
  const fix = foreign ? 'Move the project to a directory you own' : `Run \`chmod go-w ${parent}\``;
  return `the directory ${parent} (mode ${octal(info.mode)}${owner}) can be written by other users, who could swap the pipe at ${path} for their own. ${fix}; or, if you trust everyone who can write there, run \`envmount add ${dir} --allow-shared-dir\`.`;
}
