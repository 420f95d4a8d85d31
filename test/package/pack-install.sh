#!/usr/bin/env bash
# The npm package installs and runs without a compiler: packs jit-tracker,
# installs the tarball into an empty folder whose PATH holds node and npm
# only (no cc, c++, make, python), and runs the CLI and the lock API there.
# Needs dist/ (node scripts/build.js) and prebuilds/linux-x64 (npm run
# prebuild); run by .ci/run, not by vitest (it needs the npm registry for
# the dependencies and takes ~15 s).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

fail() {
  printf 'package test FAILED: %s\n' "$*" >&2
  exit 1
}
step() { printf '[package] %s\n' "$*"; }

[ -f dist/lock/index.js ] && [ -f dist/cli/main.js ] || fail "dist/ is missing: run 'node scripts/build.js'"
platform="$(node -p 'process.platform + "-" + process.arch')"
compgen -G "prebuilds/$platform/*.node" >/dev/null || fail "no prebuilds/$platform binary: run 'npm run build:prebuilds'"

work="$(mktemp -d "${TMPDIR:-/tmp}/jit-package.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --ignore-scripts: dist/ is already built; `prepare` would rebuild it.
tarball="$work/$(npm pack --ignore-scripts --silent --pack-destination "$work" | tail -n 1)"
step "packed $(basename "$tarball") ($(du -k "$tarball" | cut -f1) kB)"
contents="$(tar -tzf "$tarball")"
for required in package/bin/jit.js package/dist/cli/main.js package/dist/lock/index.js \
  package/dist/lock/index.d.ts "package/prebuilds/$platform/"; do
  grep -q "^$required" <<<"$contents" || fail "the tarball lacks $required"
done
for forbidden in package/src/ package/test/ package/build/ package/node_modules/; do
  if grep -q "^$forbidden" <<<"$contents"; then fail "the tarball contains $forbidden"; fi
done
step "tarball holds: $(grep -o '^package/prebuilds/[^/]*/' <<<"$contents" | sort -u | sed 's#^package/##' | tr '\n' ' ')"

# A PATH with node, npm, npx and sh (npm exec runs commands through it) only.
mkdir "$work/bin" "$work/app"
for tool in node npm npx sh; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
for compiler in cc gcc c++ g++ clang make python3 python; do
  if PATH="$work/bin" command -v "$compiler" >/dev/null 2>&1; then fail "$compiler is on the test PATH"; fi
done
in_app() { (cd "$work/app" && env PATH="$work/bin" "$@"); }

printf '{ "name": "app", "private": true }\n' >"$work/app/package.json"
started=$SECONDS
in_app npm install --ignore-scripts --no-audit --no-fund --loglevel=error "$tarball" >/dev/null
step "installed with --ignore-scripts in $((SECONDS - started)) s; node_modules: $(du -sh "$work/app/node_modules" | cut -f1), of which jit-tracker: $(du -sh "$work/app/node_modules/jit-tracker" | cut -f1)"

version="$(in_app npx --no-install jit --version)"
[ "$version" = "$(node -p 'require("./package.json").version')" ] || fail "jit --version printed '$version'"
in_app npx --no-install jit init >/dev/null
[ -d "$work/app/.jit" ] || fail "jit init created no .jit/"
in_app npx --no-install jit issue create --title x >/dev/null
status="$(in_app npx --no-install jit status)"
grep -q '^total: *1$' <<<"$status" || fail "jit status after one create printed: $status"
step "npx jit init && npx jit issue create --title x && npx jit status: ok"
printf '%s\n' "$status" | sed 's/^/  | /'

# The lock API from CommonJS and ESM, and the binary it loaded.
in_app node -e '
  const { tryLock } = require("jit-tracker/lock");
  const first = tryLock("app.lock");
  if (!first || tryLock("app.lock") !== null) throw new Error("tryLock did not exclude");
  first.release();
  const loaded = require("node-gyp-build").path(require("path").dirname(require.resolve("jit-tracker/package.json")));
  if (!loaded.includes("prebuilds")) throw new Error("loaded " + loaded + ", not a prebuild");
  console.log("[package] require(\"jit-tracker/lock\"): ok, binary " + loaded.replace(/.*node_modules./, ""));
'
in_app node --input-type=module -e '
  import { lock } from "jit-tracker/lock";
  const held = await lock("app.lock", { timeoutMs: 1000 });
  held.release();
  console.log("[package] import from \"jit-tracker/lock\": ok");
'

# What `npm install` does for a user: the install script finds the prebuild
# and compiles nothing (there is no compiler to compile with).
in_app npm rebuild jit-tracker --loglevel=error >/dev/null
[ ! -d "$work/app/node_modules/jit-tracker/build" ] || fail "the install script built from source"
step "install script (node-gyp-build) with no compiler: ok"
step "PASS"
