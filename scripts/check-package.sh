#!/usr/bin/env bash
# Checks the package as npm would publish it, from the built dist/ (run `npm run build`
# first, or pass --build):
#
#   1. contents: `npm pack --dry-run` ships package.json, README.md, CHANGELOG.md and dist/lib
#      only; every .js has its .d.ts and a source in lib/ (no file of a removed source), no
#      sourcemap, no spec, bench or fixture; the CLI keeps its shebang.
#   2. a consumer: a project in a temporary directory installs the packed tarball offline from
#      the local file, then `require`s and `import`s timeoutsocket, timeoutsocket/register and
#      timeoutsocket/errno (errno must not patch), cannot reach an unexported file, and
#      type-checks code using all three with this repository's TypeScript, once with
#      moduleResolution node16 (skipLibCheck off, so our .d.ts are checked too) and once with bundler.
#   3. the declarations the entries reach do not name the engine's internal types.
#
# Set KEEP_TMP=1 to keep the temporary directory (the consumer project) for a look.
# Prints one line per check and a closing "check-package: N passed, M failed"; exits 1 if any
# failed, 2 if it could not run. Needs no network.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

if [ "${1:-}" = "--build" ]; then
  npm run --silent build || { echo "check-package: the build failed" >&2; exit 2; }
elif [ -n "${1:-}" ]; then
  echo "usage: scripts/check-package.sh [--build]" >&2
  exit 2
fi

passed=0
failed=0
check() { # check <description> <command...>: runs the command, prints ok/FAIL with its output
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then
    passed=$((passed + 1))
    echo "ok   $what"
  else
    failed=$((failed + 1))
    echo "FAIL $what"
    [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/     /'
  fi
}

# dist/ must be the build of the current lib/: an older dist would be checked, not the code.
stale=$(node -e '
  const fs = require("fs"), path = require("path");
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const src of walk("lib").filter((f) => f.endsWith(".ts"))) {
    const out = path.join("dist", src.replace(/\.ts$/, ".js"));
    if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) console.log(src);
  }')
if [ -n "$stale" ]; then
  echo "check-package: dist/ is older than lib/ (run npm run build, or pass --build): $(echo "$stale" | head -3 | tr '\n' ' ')" >&2
  exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/timeoutsocket-package-XXXXXX")
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT

# 1. What is shipped.
if ! npm pack --dry-run --json --ignore-scripts >"$TMP/pack.json" 2>"$TMP/pack.err"; then
  cat "$TMP/pack.err" >&2
  echo "check-package: npm pack --dry-run failed" >&2
  exit 2
fi
node -e '
  const files = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0].files.map((f) => f.path);
  require("fs").writeFileSync(process.argv[2], files.join("\n") + "\n");
' "$TMP/pack.json" "$TMP/files.txt"

contents() {
  node -e '
    const fs = require("fs");
    const files = fs.readFileSync(process.argv[1], "utf8").trim().split("\n");
    const has = new Set(files);
    const problems = [];
    for (const need of ["package.json", "README.md", "CHANGELOG.md", "dist/lib/index.js", "dist/lib/index.d.ts",
      "dist/lib/register.js", "dist/lib/register-files.js", "dist/lib/environment-bundle.js", "dist/lib/patch-bundle.js", "dist/lib/register.d.ts", "dist/lib/errno.js", "dist/lib/errno.d.ts", "dist/lib/cli.js"]) {
      if (!has.has(need)) problems.push(`missing ${need}`);
    }
    for (const file of files) {
      if (!/^(package\.json|README\.md|CHANGELOG\.md|LICENSE|dist\/lib\/.+\.(js|d\.ts))$/.test(file)) problems.push(`should not ship ${file}`);
      // patch-bundle.js and environment-bundle.js are written by scripts/bundle-register.js from the files beside them: no source of their own.
      if (file === "dist/lib/patch-bundle.js" || file === "dist/lib/environment-bundle.js") continue;
      // register-files.js is the tsc output of register.ts, kept beside the bundle (scripts/bundle-register.js).
      const js = /^dist\/(lib\/.+)\.js$/.exec(file.replace("dist/lib/register-files.js", "dist/lib/register.js"));
      if (js && !has.has(`dist/${js[1]}.d.ts`)) problems.push(`${file} has no .d.ts`);
      if (js && !fs.existsSync(`${js[1]}.ts`)) problems.push(`${file} has no source ${js[1]}.ts (left from a removed file?)`);
    }
    if (!fs.readFileSync("dist/lib/cli.js", "utf8").startsWith("#!/usr/bin/env node\n")) problems.push("dist/lib/cli.js lost its shebang");
    if (problems.length > 0) { console.log(problems.join("\n")); process.exit(1); }
    console.log(`${files.length} files`);
  ' "$TMP/files.txt"
}
check "contents: package.json, README, CHANGELOG and dist/lib (.js + .d.ts) only, each with its source" contents

# 2. A consumer project that installs the tarball.
npm pack --ignore-scripts --silent --pack-destination "$TMP" >/dev/null 2>"$TMP/pack.err" || {
  cat "$TMP/pack.err" >&2
  echo "check-package: npm pack failed" >&2
  exit 2
}
TARBALL=$(ls "$TMP"/timeoutsocket-*.tgz)
APP="$TMP/app"
mkdir -p "$APP"
cat >"$APP/package.json" <<'EOF'
{ "name": "timeoutsocket-consumer", "version": "1.0.0", "private": true }
EOF
install_tarball() {
  (cd "$APP" && npm install --offline --no-audit --no-fund --ignore-scripts --no-package-lock --loglevel=error "$TARBALL") &&
    test -f "$APP/node_modules/timeoutsocket/dist/lib/index.js"
}
check "consumer: npm install --offline of the packed tarball" install_tarball
# The repository's own @types/node, as a consumer's would be installed next to the package.
mkdir -p "$APP/node_modules/@types"
ln -s "$ROOT/node_modules/@types/node" "$APP/node_modules/@types/node"

VERSION=$(node -p 'require("./package.json").version')
# Whether net is loaded is read before node:assert is: assert looks at process.stderr's colours,
# and opening stderr on a pipe loads net.
cat >"$APP/require.cjs" <<EOF
const errno = require('timeoutsocket/errno');
const netLoaded = process.moduleLoadList.includes('NativeModule net');
const assert = require('node:assert');
assert.strictEqual(netLoaded, false, 'timeoutsocket/errno loaded node:net');
assert.strictEqual(errno.classify('ECONNREFUSED'), 'refused');
const net = require('node:net');
assert.strictEqual(typeof net.Socket.prototype.setSocketTimeout, 'undefined', 'timeoutsocket/errno installed the patch');
const main = require('timeoutsocket');
assert.strictEqual(main.VERSION, '$VERSION');
assert.strictEqual(main.isInstalled(), true);
assert.strictEqual(main.classify, errno.classify);
main.uninstall();
require('timeoutsocket/register');
assert.strictEqual(main.isInstalled(), true, 'timeoutsocket/register did not install the patch');
assert.throws(() => require('timeoutsocket/dist/lib/engine.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
assert.strictEqual(require('timeoutsocket/package.json').version, '$VERSION');
EOF
cat >"$APP/import.mjs" <<EOF
const errno = await import('timeoutsocket/errno');
const netLoaded = process.moduleLoadList.includes('NativeModule net');
const { default: assert } = await import('node:assert');
assert.strictEqual(netLoaded, false, 'timeoutsocket/errno loaded node:net');
assert.strictEqual(errno.describe('ETIMEDOUT').category, 'timeout');
const { VERSION, isInstalled, SocketTimeoutError, classify } = await import('timeoutsocket');
assert.strictEqual(VERSION, '$VERSION');
assert.strictEqual(isInstalled(), true);
assert.strictEqual(classify, errno.classify);
assert.ok(new SocketTimeoutError({ phase: 'read', timeout: 5 }) instanceof SocketTimeoutError);
await import('timeoutsocket/register');
EOF
check "consumer: require() of timeoutsocket, /register and /errno (errno loads no net, patches nothing)" node "$APP/require.cjs"
check "consumer: import of timeoutsocket, /register and /errno" node "$APP/import.mjs"

# What a TypeScript consumer writes; the same text is checked as CommonJS and as ESM.
TYPED='
import * as net from "node:net";
import { subscribe } from "node:diagnostics_channel";
import {
  CHANNELS, SocketTimeoutError, Timeout, WouldBlockError, getStats, setDefaultSocketTimeout,
  type PhaseTimeouts, type TimeoutMessage, type TimeoutSetting,
} from "timeoutsocket";
import { classify, describe, normalizeError, LIBUV, type Category, type LibuvRow } from "timeoutsocket/errno";
import "timeoutsocket/register";

const setting: TimeoutSetting = { connect: 2000, read: 5000 };
setDefaultSocketTimeout(setting);
const socket: net.Socket = net.connect(1, "127.0.0.1").setSocketTimeout(1000);
const mine: PhaseTimeouts = socket.getSocketTimeout();
socket.on("error", (err: Error) => {
  if (err instanceof SocketTimeoutError || err instanceof Timeout) console.log(err.phase, err.timeout, err.errno);
  if (err instanceof WouldBlockError) console.log(err.code);
  const category: Category = classify(err);
  console.log(category, describe(err).message, normalizeError(err).syscall, mine.read);
});
subscribe(CHANNELS.timeout, (message) => {
  const { socket: timedOut }: TimeoutMessage = message as TimeoutMessage;
  const plain: net.Socket = timedOut;
  console.log(plain.remoteAddress);
});
const row: LibuvRow | undefined = LIBUV[0];
console.log(row?.name, getStats().sockets);
'
mkdir -p "$APP/node16" "$APP/bundler"
printf '%s' "$TYPED" >"$APP/node16/check.cts"
printf '%s' "$TYPED" >"$APP/node16/check.mts"
printf '%s' "$TYPED" >"$APP/bundler/check.ts"
cat >"$APP/tsconfig.node16.json" <<'EOF'
{ "compilerOptions": { "module": "node16", "moduleResolution": "node16", "target": "ES2022", "lib": ["ES2022"],
    "types": ["node"], "strict": true, "noEmit": true, "skipLibCheck": false },
  "files": ["node16/check.cts", "node16/check.mts"] }
EOF
# skipLibCheck only here: the node16 run already checked the same .d.ts files, and checking
# @types/node a second time is most of the cost.
cat >"$APP/tsconfig.bundler.json" <<'EOF'
{ "compilerOptions": { "module": "preserve", "moduleResolution": "bundler", "target": "ES2022", "lib": ["ES2022"],
    "types": ["node"], "strict": true, "noEmit": true, "skipLibCheck": true },
  "files": ["bundler/check.ts"] }
EOF
TSC="$ROOT/node_modules/typescript/bin/tsc"
# The two type-checks are independent: run them side by side and report each.
(cd "$APP" && node "$TSC" -p tsconfig.node16.json >"$TMP/tsc-node16.out" 2>&1; echo $? >"$TMP/tsc-node16.rc") &
(cd "$APP" && node "$TSC" -p tsconfig.bundler.json >"$TMP/tsc-bundler.out" 2>&1; echo $? >"$TMP/tsc-bundler.rc") &
wait
tsc_result() { cat "$TMP/tsc-$1.out"; [ "$(cat "$TMP/tsc-$1.rc")" = 0 ]; }
check "consumer: type-checks (moduleResolution node16, CommonJS and ESM)" tsc_result node16
check "consumer: type-checks (moduleResolution bundler)" tsc_result bundler

# 3. The declarations an entry reaches, file by file through their relative imports.
reached() {
  node -e '
    const fs = require("fs"), path = require("path");
    const dir = process.argv[1];
    const seen = new Set();
    const visit = (file) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = fs.readFileSync(file, "utf8");
      for (const [, spec] of text.matchAll(/from\s+["\x27](\.{1,2}\/[^"\x27]+)["\x27]/g)) {
        const base = path.resolve(path.dirname(file), spec.replace(/\.js$/, ""));
        // "./awaitable" is either awaitable.d.ts or a folder with index.d.ts, as Node resolves it.
        visit(fs.existsSync(`${base}.d.ts`) ? `${base}.d.ts` : path.join(base, "index.d.ts"));
      }
    };
    for (const entry of ["index", "register", "errno"]) visit(path.join(dir, `${entry}.d.ts`));
    const bad = [...seen].filter((file) => /\b(SocketState|InternalSocket)\b/.test(fs.readFileSync(file, "utf8")));
    if (bad.length > 0) { console.log(`name the engine internals: ${bad.map((f) => path.relative(dir, f)).join(", ")}`); process.exit(1); }
    console.log(`${seen.size} declaration files reached`);
  ' "$APP/node_modules/timeoutsocket/dist/lib"
}
check "declarations: none the entries reach names SocketState or InternalSocket" reached

echo "check-package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
