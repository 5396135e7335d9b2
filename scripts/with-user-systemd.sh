#!/usr/bin/env bash
# Runs CMD beside a real `systemd --user` on a machine where systemd is not PID 1 (a container, CI): a private
# mount namespace gets a tmpfs on /run holding /run/systemd/system (the mark of a systemd system), and the user
# manager starts there. Its control socket is $XDG_RUNTIME_DIR/systemd/private: XDG_RUNTIME_DIR, when the caller
# sets it, is kept (a directory outside /run is reachable from outside the namespace too); otherwise it is
# /run/user/UID. The manager takes its unit path from HOME and XDG_CONFIG_HOME: set them first.
# Needs root (for the namespace) and systemd installed. CMD's exit status is returned; the manager, and every unit
# it runs, stops when CMD ends.
# With WITH_USER_SYSTEMD_UID=N the manager runs as that user (an ordinary user's manager: no capabilities, so it
# skips the mount-namespace settings and every seccomp setting implies NoNewPrivileges), in a cgroup delegated to it
# (removed at the end), with its D-Bus user bus at $XDG_RUNTIME_DIR/bus (dbus.socket, from Debian's dbus-user-session
# units), which is how that user's systemctl reaches it. XDG_RUNTIME_DIR must then be set, and be that user's.
# CMD runs as root either way, with WITH_USER_SYSTEMD_PID set to the manager's pid (`nsenter -t PID -m` enters the
# namespace, where mounts made by the manager's units are).
# Usage: scripts/with-user-systemd.sh CMD [ARGS...]   (WITH_USER_SYSTEMD_LOG=FILE keeps the manager's log)
set -uo pipefail
if [ "$(id -u)" != 0 ]; then echo "with-user-systemd: needs root (it makes a mount namespace)" >&2; exit 2; fi
if [ ! -x /lib/systemd/systemd ] || ! command -v systemctl >/dev/null; then
  echo "with-user-systemd: systemd is not installed (apt-get install systemd)" >&2
  exit 2
fi
if [ "${WITH_USER_SYSTEMD_INNER:-}" != 1 ]; then
  exec env WITH_USER_SYSTEMD_INNER=1 unshare --mount --propagation private "$0" "$@"
fi
unset WITH_USER_SYSTEMD_INNER
runtime="${XDG_RUNTIME_DIR:-}"
mount -t tmpfs -o mode=755 tmpfs /run || exit 2
mkdir -p /run/systemd/system || exit 2
# The nodes PID 1 makes at boot (/run/systemd/inaccessible/*, mode 0000): a root manager bind-mounts them over what
# ProtectKernelTunables=, ProtectKernelLogs= and InaccessiblePaths= hide, and without them such a unit fails with
# 226/NAMESPACE ("inaccessible/reg": ENOENT), which a real systemd machine never shows.
mkdir -p -m 0000 /run/systemd/inaccessible/dir && touch /run/systemd/inaccessible/reg &&
  mkfifo /run/systemd/inaccessible/fifo && mknod /run/systemd/inaccessible/chr c 0 0 &&
  mknod /run/systemd/inaccessible/blk b 0 0 || exit 2
if command -v python3 >/dev/null; then
  python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' /run/systemd/inaccessible/sock
fi
chmod 0000 /run/systemd/inaccessible/* 2>/dev/null
uid="${WITH_USER_SYSTEMD_UID:-0}"
as_user=()
cgroups=()
if [ "$uid" != 0 ]; then
  if [ -z "$runtime" ]; then echo "with-user-systemd: WITH_USER_SYSTEMD_UID needs XDG_RUNTIME_DIR" >&2; exit 2; fi
  as_user=(setpriv --reuid="$uid" --regid="$uid" --clear-groups)
  # The manager writes its own cgroups (its units go in them): a subtree of every hierarchy it uses, owned by it.
  for h in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd /sys/fs/cgroup; do
    [ -e "$h/cgroup.procs" ] || continue
    mkdir -p "$h/emt-user-$uid-$$" && chown -R "$uid:$uid" "$h/emt-user-$uid-$$" &&
      echo $$ >"$h/emt-user-$uid-$$/cgroup.procs" || exit 2
    cgroups+=("$h/emt-user-$uid-$$")
  done
fi
if [ -z "$runtime" ]; then runtime=/run/user/$(id -u); fi
mkdir -p "$runtime" && chmod 700 "$runtime" && chown "$uid:$uid" "$runtime" || exit 2
export XDG_RUNTIME_DIR="$runtime"
"${as_user[@]}" /lib/systemd/systemd --user --log-target=console --log-level="${WITH_USER_SYSTEMD_LEVEL:-warning}" \
  >"${WITH_USER_SYSTEMD_LOG:-/dev/null}" 2>&1 &
manager=$!
export WITH_USER_SYSTEMD_PID=$manager
# SIGTERM makes the manager stop its units (each runs its ExecStop*) and exit. Then the cgroups it made go (deepest
# first; this shell leaves its own for the parent hierarchy's root before).
finish() {
  kill -TERM "$manager" 2>/dev/null
  wait "$manager" 2>/dev/null
  for c in "${cgroups[@]}"; do
    echo $$ >"$(dirname "$c")/cgroup.procs" 2>/dev/null
    find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
}
trap finish EXIT
trap 'exit 143' TERM INT HUP
ready() { "${as_user[@]}" systemctl --user show-environment >/dev/null 2>&1; }
for _ in $(seq 1 200); do
  ready && break
  kill -0 "$manager" 2>/dev/null || break
  sleep 0.05
done
if ! ready; then
  echo "with-user-systemd: the user manager did not start (WITH_USER_SYSTEMD_LOG=FILE keeps its log)" >&2
  exit 2
fi
"$@"
