// A cheap busy-looking process for bench/procs.mjs: opens /dev/null N times (argv[1], default 50), says "ready"
// on stdout, then sleeps until killed. 600 of these give a /proc scan 600 more processes and 30000 more fds.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 50;
  for (int i = 0; i < n; i++)
    if (open("/dev/null", O_RDONLY) < 0) return 1;
  if (write(1, "r", 1) != 1) return 1;
  close(1);
  for (;;) pause();
}
