#!/usr/bin/env bash
# npm run test:windows — the Windows lock suite (test/windows/) run by the
# real Windows node.exe under Wine, against the addon cross-compiled from
# native/lock_win32.cc. Needs dist/ (node scripts/build.js); installs the
# Debian packages it lacks. Exit code: the suite's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

if [ ! -f dist/index.js ]; then
  log "dist/index.js is missing: run 'node scripts/build.js' first"
  exit 1
fi
bash scripts/windows/build.sh
ensure_debian_packages wine wine64 wine
ensure_node_exe

export WINEPREFIX="$ROOT/.wine-prefix"
export WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/.jit-win10" ]; then
  log "creating the Wine prefix ${WINEPREFIX#"$ROOT"/}"
  # Wine 8 reports Windows 7 by default and node.exe refuses to start there.
  wine winecfg -v win10 >"$CACHE/winecfg.log" 2>&1
  touch "$WINEPREFIX/.jit-win10"
fi

# node.exe under Wine dies with EBADF when stdout or stderr is a pipe, so
# the suite writes to files that we print afterwards. PREBUILDS_ONLY keeps
# node-gyp-build from picking build/Release, which holds the Linux binary.
out="$CACHE/suite.out"
err="$CACHE/suite.err"
status=0
PREBUILDS_ONLY=1 timeout 600 wine "$NODE_EXE" --test --test-timeout=120000 --test-reporter=spec test/windows/*.test.mjs \
  >"$out" 2>"$err" </dev/null || status=$?
cat "$out"
cat "$err" >&2
exit "$status"
