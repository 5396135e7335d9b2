#!/usr/bin/env bash
# The sanitizer tier: builds the addon with AddressSanitizer and UBSan, runs the native tests and the daemon tests
# that stress native lifetimes with it (libasan preloaded into node and passed on to every daemon the tests start),
# and fails on any test failure or any sanitizer report. The normal build comes back at the end, whatever happens.
# Usage: scripts/sanitize.sh [REPORT_JSON [TEST_FILE...]]   (from anywhere; .ci/run runs it after the main suite)
set -uo pipefail
cd "$(dirname "$0")/.."
report=${1:-sanitize-results.json}
rm -f "$report"
shift $(($# > 0 ? 1 : 0))

# Files: the native tests, and the daemon tests whose readers, churn and signals reach every native thread and
# lifetime (sequential and 32 concurrent reads, readers that never read or are killed mid-read, remove and rm .env
# while serving, SIGTERM and kill -9 during reads, 200 mounts added and removed, bad input, tickets).
FILES=(test/native test/daemon/churn.test.ts test/daemon/reads.test.ts test/daemon/crash.test.ts
  test/daemon/healing.test.ts test/daemon/bad-input.test.ts test/daemon/hardening.test.ts)
[ $# -gt 0 ] && FILES=("$@")

SAN_FLAGS="-fsanitize=address,undefined -fsanitize-recover=address -fno-omit-frame-pointer -g -O1"
libasan=$(gcc -print-file-name=libasan.so)
if [ ! -e "$libasan" ]; then
  echo "sanitize: gcc has no libasan.so (install gcc's sanitizer runtime: libasan8)" >&2
  exit 1
fi
# Daemons run as another user in some tests: the log directory is writable by all, sticky.
logs=$(mktemp -d /tmp/envmount-sanitize.XXXXXX)
chmod 1777 "$logs"

restore() {
  if ! npm run install --silent >/dev/null 2>&1; then
    echo "sanitize: rebuilding the normal addon failed; run \`npm run install\`" >&2
  fi
}
trap restore EXIT

echo "sanitize: building the addon with $SAN_FLAGS"
if ! CFLAGS="$SAN_FLAGS" LDFLAGS="-fsanitize=address,undefined" npm run install --silent >"$logs/build.txt" 2>&1; then
  cat "$logs/build.txt" >&2
  echo "sanitize: the sanitizer build failed" >&2
  exit 1
fi
npm run build --silent || exit 1

# mlock() always succeeds under ASan (it is intercepted): ENVMOUNT_TEST_SANITIZER tells the tests that check it.
# Hooks get 120 s: set-up that starts a daemon and a CLI process per value runs several times slower under ASan.
LD_PRELOAD="$libasan" \
  ASAN_OPTIONS="detect_leaks=0:halt_on_error=0:log_path=$logs/asan" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0" \
  ENVMOUNT_TEST_SANITIZER=asan ENVMOUNT_TEST_SANITIZER_LOGS="$logs" \
  npx vitest run "${FILES[@]}" --hookTimeout=120000 --reporter=default --reporter=json --outputFile.json="$report" 2>&1 |
  tee "$logs/vitest.txt"
status=${PIPESTATUS[0]}

# UBSan beside ASan reports on stderr whatever UBSAN_OPTIONS says: the tests' own output (the addon loaded in a
# test process) and the daemons' logs (kept by test/helpers/daemon.ts) are read for it too.
reports=$(grep -lE 'ERROR: AddressSanitizer|runtime error:|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)' \
  "$logs"/asan.* "$logs"/ubsan.* "$logs/vitest.txt" 2>/dev/null)
if [ -n "$reports" ]; then
  for file in $reports; do
    echo "sanitize: report in $file:" >&2
    head -60 "$file" >&2
  done
  echo "sanitize: $(echo "$reports" | wc -l) sanitizer report(s); logs kept in $logs" >&2
  status=1
else
  echo "sanitize: no sanitizer report"
  rm -rf "$logs"
fi
exit $status
