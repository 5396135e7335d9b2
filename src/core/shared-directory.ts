/**
 * StrictModes for mount directories, as pure rules: whether another user can write a directory (and so rename,
 * exchange or plant entries beside a mount's pipe), and what to tell the user. The daemon (daemon/mounts/shared-dir.ts)
 * and `doctor` apply them.
 */
const S_ISVTX = 0o1000;

export interface DirectoryOwnership {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  /** An extended POSIX access ACL (named users or groups): then the group bits are only the ACL's mask. */
  readonly acl?: boolean;
}

/**
 * Whether a directory of this owner, group and mode can be written by a user other than `uid` (and root). The
 * group write bit is harmless when the group is the user's private group (`privateGid`, see privateGroupOf): with
 * umask 002, Debian, Ubuntu and Fedora make every directory of such a user group-writable. native/rotate.c's
 * dir_is_shared() applies the same rule on the mount threads.
 */
export function isSharedDirectory(info: DirectoryOwnership, uid: number, privateGid = -1): boolean {
  if (info.uid !== uid && info.uid !== 0) return true;
  if (info.acl) return true;
  if ((info.mode & S_ISVTX) !== 0) return false;
  if ((info.mode & 0o002) !== 0) return true;
  return (info.mode & 0o020) !== 0 && info.gid !== privateGid;
}

/**
 * The user's private group, or -1: their primary group, when /etc/group names no member but them and no other
 * account in /etc/passwd has it as its primary group (OpenSSH's StrictModes accepts the same on Debian). Groups
 * from a directory service (LDAP, sssd) are not in these files: then -1, and a group-writable directory is shared.
 */
export function privateGroupOf(
  user: { readonly uid: number; readonly gid: number; readonly username: string },
  groupFile: string,
  passwdFile: string,
): number {
  const groups = groupFile.split('\n').map((line) => line.split(':'));
  // NIS compat lines (`+`, `-`) pull in groups this file does not show: nothing here is known to be private.
  if (groups.some((fields) => /^[+-]/.test(fields[0] ?? ''))) return -1;
  // Every line with this gid counts (two names may share one gid; members of either can write).
  const same = groups.filter((fields) => fields.length >= 4 && Number(fields[2]) === user.gid);
  if (same.length === 0) return -1;
  const members = same.flatMap((fields) => (fields[3] ?? '').split(',')).filter((name) => name !== '');
  if (members.some((name) => name !== user.username)) return -1;
  const others = passwdFile
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= 4 && Number(fields[3]) === user.gid && Number(fields[2]) !== user.uid);
  return others.length === 0 ? user.gid : -1;
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
  const owner = foreign
    ? `, owned by uid ${info.uid}`
    : info.acl
      ? ', with an access ACL naming other users or groups'
      : '';
  const fix = foreign
    ? 'Move the project to a directory you own'
    : info.acl
      ? `Run \`setfacl -b ${parent}\` and \`chmod go-w ${parent}\``
      : `Run \`chmod go-w ${parent}\``;
  return `the directory ${parent} (mode ${octal(info.mode)}${owner}) can be written by other users, who could swap the pipe at ${path} for their own. ${fix}; or, if you trust everyone who can write there, run \`envmount add ${dir} --allow-shared-dir\`.`;
}
