# Reads a file COUNT times, each open and read given SECONDS (SIGALRM), and prints "served late" where served counts
# the reads that returned some bytes. Used against mounts under attack: a reader must never hang. Stops after three
# late reads in a row (the path no longer leads to the daemon).
import os, signal, sys

path, count, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])


class Late(Exception):
    pass


def on_alarm(signum, frame):
    raise Late()


signal.signal(signal.SIGALRM, on_alarm)
served = late = in_a_row = 0
for _ in range(count):
    if in_a_row == 3:
        break
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with open(path, 'rb') as f:
            data = f.read()
        served += len(data) > 0
        in_a_row = 0
    except Late:
        late += 1
        in_a_row += 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
print(served, late, flush=True)
