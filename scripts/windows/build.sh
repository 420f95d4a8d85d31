#!/usr/bin/env bash
# Cross-compiles the addon for Windows x64 with mingw-w64:
# native/binding.cc + native/lock_win32.cc -> prebuilds/win32-x64/jit-lock.node
# (where node-gyp-build looks for a win32-x64 prebuild). Same sources and
# defines as binding.gyp; warnings are errors.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

if [ -f "$WIN_ADDON" ] && [ -z "$(find native binding.gyp -newer "$WIN_ADDON" -print -quit)" ]; then
  log "${WIN_ADDON#"$ROOT"/} is up to date"
  exit 0
fi

CXX=x86_64-w64-mingw32-g++
ensure_debian_packages "$CXX" g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev

# Import library for the Node-API functions that node.exe exports.
NODE_LIB="$CACHE/node.lib"
NODE_API_DEF="$(node -p "require('node-api-headers').def_paths.node_api_def")"
if [ ! -f "$NODE_LIB" ] || [ "$NODE_API_DEF" -nt "$NODE_LIB" ]; then
  mkdir -p "$CACHE"
  x86_64-w64-mingw32-dlltool -d "$NODE_API_DEF" -l "$NODE_LIB" -D node.exe
fi

# binding.gyp is the single list of defines (it is plain JSON).
read -r -a DEFINES <<<"$(node -p "JSON.parse(require('fs').readFileSync('binding.gyp', 'utf8')).targets[0].defines.map((d) => '-D' + d).join(' ')")"

mkdir -p "$WIN_PREBUILD_DIR"
# -static: without it the addon needs libwinpthread-1.dll and libstdc++ DLLs
# that Windows machines do not have.
"$CXX" -std=c++17 -O2 -Wall -Wextra -Werror -shared \
  "${DEFINES[@]}" -DBUILDING_NODE_EXTENSION \
  -I"$(node -p "require('node-addon-api').include_dir")" \
  -I"$(node -p "require('node-api-headers').include_dir")" \
  native/binding.cc native/lock_win32.cc \
  "$NODE_LIB" -static -static-libgcc -static-libstdc++ -s \
  -o "$WIN_ADDON"
log "built ${WIN_ADDON#"$ROOT"/}"
