#!/usr/bin/env bash
# Both npm packages install and run without a compiler. Packs jit-lock and
# jit-tracker (scripts/pack.js), then, in empty folders whose PATH holds node
# and npm only (no cc, c++, make, python):
#   1. `npm install jit-lock.tgz`: counts the packages and bytes it adds, and
#      uses the lock API from CommonJS and ESM with the prebuilt binary;
#   2. `npm install jit-lock.tgz jit-tracker.tgz`: runs the CLI, and the
#      jit-tracker/lock re-export from CommonJS and ESM.
# Needs dist/ of both packages (node scripts/build.js) and prebuilds/<this
# platform> (npm run build:prebuilds); run by .ci/run, not by vitest (it
# needs the npm registry for jit-tracker's dependencies and takes ~30 s).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

fail() {
  printf 'package test FAILED: %s\n' "$*" >&2
  exit 1
}
step() { printf '[package] %s\n' "$*"; }

[ -f dist/index.js ] && [ -f packages/jit/dist/cli/main.js ] || fail "dist/ is missing: run 'node scripts/build.js'"
platform="$(node -p 'process.platform + "-" + process.arch')"
compgen -G "prebuilds/$platform/*.node" >/dev/null || fail "no prebuilds/$platform binary: run 'npm run build:prebuilds'"
version="$(node -p 'require("./package.json").version')"
[ "$version" = "$(node -p 'require("./packages/jit/package.json").version')" ] || fail "jit-lock and jit-tracker have different versions"

work="$(mktemp -d "${TMPDIR:-/tmp}/jit-package.XXXXXX")"
trap 'rm -rf "$work"' EXIT

mapfile -t tarballs < <(node scripts/pack.js --out "$work/tarballs")
lock_tarball="${tarballs[0]}"
tracker_tarball="${tarballs[1]}"
[[ "$(basename "$lock_tarball")" == "jit-lock-$version.tgz" ]] || fail "scripts/pack.js printed '${tarballs[*]}'"
[[ "$(basename "$tracker_tarball")" == "jit-tracker-$version.tgz" ]] || fail "scripts/pack.js printed '${tarballs[*]}'"

# require_entries <tarball> <required...> -- <forbidden...>
check_contents() {
  local tarball="$1" contents entry
  shift
  contents="$(tar -tzf "$tarball")"
  while [ "$1" != "--" ]; do
    grep -q "^$1" <<<"$contents" || fail "$(basename "$tarball") lacks $1"
    shift
  done
  shift
  for entry in "$@"; do
    if grep -q "$entry" <<<"$contents"; then fail "$(basename "$tarball") contains $entry"; fi
  done
}
check_contents "$lock_tarball" package/dist/index.js package/dist/index.d.ts package/binding.gyp package/native/binding.cc \
  package/bin/jit-lock.js package/dist/cli.js \
  "package/prebuilds/$platform/" -- '^package/src/' '^package/test/' '^package/build/' '^package/node_modules/' \
  '^package/packages/' '^package/scripts/' '^package/bench/' 'tsbuildinfo$' '\.map$'
check_contents "$tracker_tarball" package/bin/jit.js package/dist/cli/main.js package/dist/store/index.js \
  package/dist/lock/index.js package/dist/lock/index.d.ts -- '^package/src/' '^package/test/' '^package/bench/' \
  '^package/prebuilds/' '^package/native/' '^package/node_modules/' 'tsbuildinfo$'
step "packed $(basename "$lock_tarball") ($(du -k "$lock_tarball" | cut -f1) kB; $(tar -tzf "$lock_tarball" | grep -o '^package/prebuilds/[^/]*/' | sort -u | sed 's#^package/##' | tr '\n' ' '))"
step "packed $(basename "$tracker_tarball") ($(du -k "$tracker_tarball" | cut -f1) kB)"

# The published jit-tracker names jit-lock by its exact version (in the repository it is "file:../.."): its CLI bundle holds jit-lock's JavaScript.
dependency="$(tar -xzOf "$tracker_tarball" package/package.json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).dependencies["jit-lock"])')"
[ "$dependency" = "$version" ] || fail "the packed jit-tracker depends on jit-lock '$dependency', not '$version'"
step "jit-tracker's package.json: \"jit-lock\": \"$dependency\""

# A PATH with node, npm, npx and sh (npm runs scripts through it) only.
mkdir "$work/bin"
for tool in node npm npx sh; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
for compiler in cc gcc c++ g++ clang make python3 python; do
  if PATH="$work/bin" command -v "$compiler" >/dev/null 2>&1; then fail "$compiler is on the test PATH"; fi
done
# in_app <folder> <command...>: runs in an app folder with the compiler-free PATH.
in_app() {
  local app="$1"
  shift
  (cd "$work/$app" && env PATH="$work/bin" "$@")
}
new_app() {
  mkdir "$work/$1"
  printf '{ "name": "%s", "private": true }\n' "$1" >"$work/$1/package.json"
}
# Bytes of the files under a folder, and how many npm packages it holds.
bytes_of() { node -e '
  const fs = require("fs"), path = require("path");
  const size = (p) => { const s = fs.lstatSync(p); return s.isDirectory() ? fs.readdirSync(p).reduce((n, e) => n + size(path.join(p, e)), 0) : s.size; };
  console.log(size(process.argv[1]));' "$1"; }
packages_in() { (cd "$work/$1" && find node_modules -name package.json -not -path '*/node_modules/*/node_modules/*' \
  -exec node -e 'const m = require(require("path").resolve(process.argv[1])); if (m.name && m.version) console.log(m.name)' {} \; | sort -u); }

# --- 1. jit-lock alone, as a library author installs it (install scripts run) ---
new_app lock-app
started=$SECONDS
in_app lock-app npm install --no-audit --no-fund --loglevel=error "$lock_tarball" >/dev/null
[ ! -d "$work/lock-app/node_modules/jit-lock/build" ] || fail "jit-lock's install script built from source"
mapfile -t added < <(packages_in lock-app)
total="$(bytes_of "$work/lock-app/node_modules")"
prebuilt="$(bytes_of "$work/lock-app/node_modules/jit-lock/prebuilds")"
step "npm install jit-lock (no compiler, install script on) in $((SECONDS - started)) s: ${#added[@]} packages (${added[*]}),"
step "  $((total / 1024)) KiB in node_modules, of which prebuilt binaries $((prebuilt / 1024)) KiB, the rest $(((total - prebuilt) / 1024)) KiB:"
for package in "${added[@]}"; do
  step "    $package $(($(bytes_of "$work/lock-app/node_modules/$package") / 1024)) KiB"
done
[ "${#added[@]}" -le 3 ] || fail "npm install jit-lock added ${#added[@]} packages: ${added[*]} (at most 3)"
[ $((total - prebuilt)) -lt 1048576 ] || fail "npm install jit-lock added $((total - prebuilt)) bytes besides the prebuilt binaries (under 1 MiB)"

in_app lock-app node -e '
  const { tryLock, LockTimeoutError, DEFAULT_TIMEOUT_MS } = require("jit-lock");
  const first = tryLock("app.lock");
  if (!first || tryLock("app.lock") !== null) throw new Error("tryLock did not exclude");
  first.release();
  if (typeof LockTimeoutError !== "function" || DEFAULT_TIMEOUT_MS !== 5000) throw new Error("exports missing");
  const loaded = require("node-gyp-build").path(require("path").dirname(require.resolve("jit-lock/package.json")));
  if (!loaded.includes("prebuilds")) throw new Error("loaded " + loaded + ", not a prebuild");
  console.log("[package] require(\"jit-lock\"): ok, binary " + loaded.replace(/.*node_modules./, ""));
'
# The portable flock(1): `npx jit-lock FILE -- COMMAND` passes the command's exit status through.
set +e
in_app lock-app npx --no-install jit-lock app.lock -- node -e "process.exit(7)"
bin_status=$?
set -e
[ "$bin_status" -eq 7 ] || fail "npx jit-lock app.lock -- node -e 'process.exit(7)' exited $bin_status"
step "npx jit-lock app.lock -- COMMAND: ok (exit status 7 passed through)"
in_app lock-app node --input-type=module -e '
  import { lock, lockAll } from "jit-lock";
  const held = await lock("app.lock", { timeoutMs: 1000 });
  held.release();
  (await lockAll([{ path: "a.lock" }, { path: "b.lock", mode: "shared" }])).release();
  console.log("[package] import from \"jit-lock\": ok");
'

# Its types, as an ESM and a CommonJS TypeScript consumer compile them (its .d.ts checked too: no skipLibCheck).
cat >"$work/lock-app/consumer.mts" <<'TS'
import { lock, tryLock, LOCK_CHANNELS, LockTimeoutError, type FileLock, type LockAcquireMessage } from 'jit-lock';
const held: FileLock | null = tryLock('app.lock', { mode: 'shared' });
held?.release();
const later: Promise<FileLock> = lock('app.lock', { timeoutMs: 10, signal: AbortSignal.timeout(100) });
void later.then((taken) => taken.release());
const waited = (message: LockAcquireMessage): number => message.waitedMs;
// @ts-expect-error a misspelt option does not compile
void tryLock('app.lock', { mod: 'shared' });
export { waited, LockTimeoutError, LOCK_CHANNELS };
TS
cat >"$work/lock-app/consumer.cts" <<'TS'
import jitLock = require('jit-lock');
const held: jitLock.FileLock | null = jitLock.tryLock('app.lock');
held?.release();
export = jitLock.DEFAULT_TIMEOUT_MS;
TS
in_app lock-app node "$ROOT/node_modules/typescript/bin/tsc" --noEmit --strict --module nodenext --moduleResolution nodenext \
  --types node --typeRoots "$ROOT/node_modules/@types" consumer.mts consumer.cts || fail "jit-lock's types do not compile in a TypeScript consumer"
step "TypeScript consumers (ESM and CommonJS, strict, no skipLibCheck): ok"

# --- 2. jit-tracker (with the jit-lock tarball standing in for the registry's) ---
new_app tracker-app
started=$SECONDS
in_app tracker-app npm install --no-audit --no-fund --loglevel=error "$lock_tarball" "$tracker_tarball" >/dev/null
[ ! -d "$work/tracker-app/node_modules/jit-tracker/node_modules/jit-lock" ] || fail "jit-tracker installed a second jit-lock"
step "npm install jit-tracker in $((SECONDS - started)) s: $(packages_in tracker-app | wc -l) packages, node_modules $(du -sh "$work/tracker-app/node_modules" | cut -f1)"

printed="$(in_app tracker-app npx --no-install jit --version)"
[ "$printed" = "$version" ] || fail "jit --version printed '$printed'"
in_app tracker-app npx --no-install jit init >/dev/null
[ -d "$work/tracker-app/.jit" ] || fail "jit init created no .jit/"
in_app tracker-app npx --no-install jit issue create --title x >/dev/null
status="$(in_app tracker-app npx --no-install jit status)"
grep -q '^total: *1$' <<<"$status" || fail "jit status after one create printed: $status"
step "npx jit init && npx jit issue create --title x && npx jit status: ok"
printf '%s\n' "$status" | sed 's/^/  | /'

# An isolated layout (npm's linked strategy, as pnpm's): each package in node_modules/.store/, its dependencies
# beside its real folder only. The CLI bundle must still find jit-lock's node-gyp-build and libsql's native package.
new_app linked-app
in_app linked-app npm install --no-audit --no-fund --loglevel=error --install-strategy=linked "$lock_tarball" "$tracker_tarball" >/dev/null
in_app linked-app npx --no-install jit init >/dev/null
in_app linked-app npx --no-install jit issue create --title x >/dev/null || fail "jit issue create failed in an isolated (--install-strategy=linked) layout"
grep -q '^total: *1$' <<<"$(in_app linked-app npx --no-install jit status)" || fail "jit status in an isolated layout did not count the issue"
step "npm install --install-strategy=linked; jit init && jit issue create && jit status: ok"
timeout_error="$(export JIT_LOCK_TIMEOUT=soon && in_app tracker-app npx --no-install jit --json status 2>&1 || true)"
grep -q '"code": *"INVALID_ENV"' <<<"$timeout_error" || fail "JIT_LOCK_TIMEOUT=soon gave: $timeout_error"
step "JIT_LOCK_TIMEOUT=soon jit status: INVALID_ENV (the tracker reads its variable)"

# jit serve: the page's bundled assets ship in the tarball (no build step, no CDN).
in_app tracker-app node -e '
  const { spawn } = require("node:child_process");
  const bin = require("node:path").join(require("node:path").dirname(require.resolve("jit-tracker/package.json")), "bin", "jit.js");
  const child = spawn(process.execPath, [bin, "--json", "serve", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const stop = (code, message) => { child.kill("SIGTERM"); if (message) console.error(message); process.exitCode = code; };
  setTimeout(() => stop(1, "jit serve did not start within 60 s"), 60000).unref();
  child.stdout.setEncoding("utf8").on("data", async (chunk) => {
    out += chunk;
    let url;
    try { url = JSON.parse(out).url; } catch { return; }
    for (const asset of ["", "app.js", "app.css", "layout-worker.js", "api/status"]) {
      const response = await fetch(url + asset);
      if (response.status !== 200) return stop(1, "GET /" + asset + " answered " + response.status);
    }
    console.log("[package] jit serve: page, bundle and API answer");
    stop(0);
  });
'

in_app tracker-app node -e '
  const { tryLock } = require("jit-tracker/lock");
  const first = tryLock("app.lock");
  if (!first || tryLock("app.lock") !== null) throw new Error("tryLock did not exclude");
  first.release();
  if (require("jit-tracker").tryLock !== require("jit-lock").tryLock) throw new Error("jit-tracker re-exports another jit-lock");
  console.log("[package] require(\"jit-tracker/lock\") and require(\"jit-tracker\"): ok");
'
in_app tracker-app node --input-type=module -e '
  import { lock } from "jit-tracker/lock";
  import { openTracker } from "jit-tracker/store";
  const held = await lock("app.lock", { timeoutMs: 1000 });
  held.release();
  if ((await openTracker(".jit").listIssues()).length !== 1) throw new Error("the store did not list the issue");
  console.log("[package] import from \"jit-tracker/lock\" and \"jit-tracker/store\": ok");
'
step "PASS"
