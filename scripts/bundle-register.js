#!/usr/bin/env node
/**
 * Writes dist/lib/register.js as one file holding every module the preload loads at start-up
 * with no `TIMEOUTSOCKET_*` variable set; dist/lib/environment-bundle.js, one file holding what
 * applying the environment loads beyond that (lib/environment.ts: the runtime, the config, the
 * rules, the mode), which the preload loads when a variable is set; and dist/lib/patch-bundle.js,
 * one file holding what the preload's stubs load on their first call (lib/lazy-install.ts:
 * patch.js and every module it loads that the other two do not hold; it loads the environment
 * bundle for those), after `tsc` has built dist/ (`npm run build` runs it). A bundle hands a
 * require of a module another bundle holds to that bundle, and serves a require of a module
 * that already ran from `require.cache` by key (a require Node resolves costs a path lookup on disk).
 * Usage: node scripts/bundle-register.js [LIB]   (LIB: the built dist/lib folder, by default this repository's)
 *
 * Why: Node's loader spends about half a million instructions on every file it loads (resolving
 * the path, a stat, a read, compiling the wrapper), and past about twenty files its path
 * functions get hot enough for V8 to optimise them, which costs as much again. The preload
 * loads about twenty-five files: read as one file, its start-up costs a fraction of that.
 *
 * Not a second copy: each module in the bundle is still the module of its own file. It is put
 * in `require.cache` under that file's name (dist/lib/engine.js, ...) before it runs, exactly
 * as Node's loader does, and the bundle runs a module only if the cache does not have it yet.
 * So a file that loads later from disk (the main entry, the awaitable API on first use, the
 * rules parser) and requires `./engine` gets the very module the preload runs, and a module
 * loaded from disk before the preload is the one the preload uses. The individual files stay
 * in dist/ for that, and the bundle is their text, unchanged, each in Node's module wrapper.
 *
 * What is in it is found, not listed: a child process loads the tsc-built register.js with no
 * `TIMEOUTSOCKET_*` variable set and reports which of our files it loaded (`require.cache`).
 * Each module's relative requires are resolved here, at build time, to the bundled modules they
 * name; any other require (a Node builtin, a file loaded on first use) goes to Node's own
 * `require` of that module, relative to its own file. A bundled module gets what Node's wrapper
 * gives (`exports`, `require`, `module`, `__filename`, `__dirname`) except that its `require` is
 * a plain function (the build refuses a module that uses `require.resolve` or the like) and its
 * `module.paths` are those of dist/lib (node_modules lookups from dist/lib/protocols/ and the
 * other folders find the same directories, as none has a node_modules of its own).
 *
 * The bundle is ASCII: every other character is written as a `\uXXXX` escape. V8 reads and
 * scans a one-byte source faster (a file with one `…` in it is decoded to UTF-16 as a whole,
 * about 4 million instructions more here). The escape means the same character in a comment, a
 * string, a template, a regular expression or a name; only a template's raw text would differ,
 * so a module that uses `String.raw` is refused, as is a character beyond U+FFFF.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const LIB = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist', 'lib'));
const ENTRY = path.join(LIB, 'register.js');
/** tsc's own register.js, kept under this name: what the bundle loads when Node's loader does not run it. */
const FILES_ENTRY = path.join(LIB, 'register-files.js');
const MARK = '// timeoutsocket: the register bundle';
/** The first-use bundle: what the preload's stubs load on their first call (lib/lazy-install.ts). */
const FIRST_USE_NAME = 'patch-bundle.js';
const FIRST_USE_ENTRY = path.join(LIB, 'patch.js');
const FIRST_USE_MARK = '// timeoutsocket: the first-use bundle';
/**
 * The environment bundle: what reads the `TIMEOUTSOCKET_*` environment (lib/environment.ts and
 * what it loads that start-up has not). The preload loads it at start-up when a variable is set
 * (lib/preload-env.ts); otherwise the first-use bundle loads it with the patch, which needs most
 * of it (the runtime, the config, the rules), so no module is in two bundles.
 */
const ENV_NAME = 'environment-bundle.js';
const ENV_ENTRY = path.join(LIB, 'environment.js');
const ENV_MARK = '// timeoutsocket: the environment bundle';
/** Separates a bundle's file name from a module's key in a dependency served by another bundle: `patch-bundle.js#engine.js`. */
const ELSEWHERE = '#';

/**
 * The files the tsc-built entry loads at start-up, in the order it loads them (the entry first);
 * with `then`, the files that requiring `then` loads after that.
 */
function startupFiles(entry, then) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key !== 'NODE_OPTIONS' && !key.startsWith('TIMEOUTSOCKET_') && key !== 'NODE_DEBUG') env[key] = value;
  }
  const more = then === undefined ? '' : `const before = new Set(Object.keys(require.cache)); require(${JSON.stringify(then)}); const after = Object.keys(require.cache).filter((f) => !before.has(f)); `;
  const probe = `require(${JSON.stringify(entry)}); ${more}console.log(JSON.stringify(${then === undefined ? 'Object.keys(require.cache)' : 'after'}))`;
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', probe], { env, encoding: 'utf8' }));
  return loaded.filter((file) => file.startsWith(LIB + path.sep));
}

/** The file a relative `require(spec)` in `from` loads, as Node resolves it (spec.js, spec/index.js). */
function resolveRelative(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.js`, path.join(base, 'index.js')]) {
    if (candidate.endsWith('.js') && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${keyOf(from)}: cannot resolve require(${JSON.stringify(spec)})`);
}

/** The text with every non-ASCII character as a `\uXXXX` escape (see the header). */
function ascii(text, key) {
  if (/\bString\.raw\b/.test(text)) throw new Error(`${key} uses String.raw, whose text the \\u escapes would change`);
  return text.replace(/[^\x00-\x7f]/g, (char) => {
    const code = char.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdfff) throw new Error(`${key} has a character beyond U+FFFF`);
    return `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** A module's key in the bundle: its path under dist/lib, with forward slashes. */
function keyOf(file) {
  return path.relative(LIB, file).split(path.sep).join('/');
}

/**
 * Each file's text and its relative requires resolved: to its key for a file of `inBundle` (this
 * bundle's, or the start-up bundle's, which are in require.cache by then), to
 * `<bundle>#<key>` for a file another bundle holds (`elsewhere`: file -> bundle name), and
 * left to Node's require for any other.
 */
function readModules(files, inBundle, elsewhere = new Map()) {
  const modules = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    // The bundle gives each module a plain require(id) and the wrapper's variables; nothing
    // here may need more of Node's require (resolve, cache, main).
    if (/\brequire\.(resolve|cache|main|extensions)\b/.test(text)) throw new Error(`${keyOf(file)} uses more of require than the bundle gives it`);
    const deps = {};
    for (const [, , spec] of text.matchAll(/\brequire\((['"])(\.{1,2}\/[^'"]+)\1\)/g)) {
      const target = resolveRelative(file, spec);
      if (inBundle.has(target)) deps[spec] = keyOf(target);
      else if (elsewhere.has(target)) deps[spec] = `${elsewhere.get(target)}${ELSEWHERE}${keyOf(target)}`;
    }
    modules.push({ key: keyOf(file), file, text: ascii(text, keyOf(file)), deps });
  }
  return modules;
}

/** The loader both bundles share: `load(key)` runs a bundled module once, as Node's loader would. */
function loaderLines(modules) {
  return [
    "  const { sep } = require('node:path');",
    '  const cache = require.cache;',
    '  const Module = module.constructor;',
    '  const root = __dirname;',
    '  const paths = module.paths;',
    '  // Each module: [wrapper, { relative require: key of a bundled module }]. The wrappers are in',
    '  // parentheses: V8 compiles such a function when it meets it instead of scanning it twice.',
    '  const defined = {',
    ...modules.map((m) => `${JSON.stringify(m.key)}: [(function (exports, require, module, __filename, __dirname) {\n${m.text}\n}), ${JSON.stringify(m.deps)}],`),
    '  };',
    '  function filenameOf(key) {',
    "    return root + sep + (sep === '/' ? key : key.split('/').join(sep));",
    '  }',
    `  /** The bundles a module here has required from (\`<bundle>${ELSEWHERE}<key>\`: ${ENV_NAME}, ${FIRST_USE_NAME}): their load(key). */`,
    '  const bundles = {};',
    '  /** A module another bundle holds: from require.cache if it ran already, else from that bundle, loaded when a module here first needs it. */',
    '  function elsewhere(ref) {',
    `    const at = ref.indexOf(${JSON.stringify(ELSEWHERE)});`,
    '    const key = ref.slice(at + 1);',
    '    const cached = cache[filenameOf(key)];',
    '    if (cached !== undefined) return cached.exports;',
    '    const name = ref.slice(0, at);',
    "    return (bundles[name] ??= module.require('./' + name))(key);",
    '  }',
    '  function requireFor(module, deps) {',
    '    return function require(id) {',
    '      const key = deps[id];',
    '      if (key === undefined) return module.require(id);',
    `      return key.includes(${JSON.stringify(ELSEWHERE)}) ? elsewhere(key) : load(key);`,
    '    };',
    '  }',
    '  /** A bundled module by key: from require.cache if it is there, else run and cached as Node does. */',
    '  function load(key) {',
    '    const filename = filenameOf(key);',
    '    const cached = cache[filename];',
    '    if (cached !== undefined) return cached.exports;',
    '    const found = defined[key];',
    "    if (found === undefined) return module.require('./' + key); // a start-up module, cached (see the bundle script)",
    '    const [wrapper, deps] = found;',
    '    const dirname = filename.slice(0, filename.lastIndexOf(sep));',
    '    const child = new Module(filename, module);',
    '    child.filename = filename;',
    '    child.paths = paths;',
    '    cache[filename] = child;',
    '    let threw = true;',
    '    try {',
    '      wrapper.call(child.exports, child.exports, requireFor(child, deps), child, filename, dirname);',
    '      threw = false;',
    '    } finally {',
    '      if (threw) delete cache[filename];',
    '    }',
    '    child.loaded = true;',
    '    return child.exports;',
    '  }',
  ];
}

/** The check both bundles start with: only Node's own CommonJS loader gives them what they rely on. */
const NODE_LOADER_CHECK = [
  "// Only Node's own CommonJS loader gives the bundle what it relies on (its Module and its",
  "// require.cache); anything else (Jest's module registry, a bundler, a load hook that hands",
  "// Node the source) gets the same modules file by file, from tsc's output.",
  "// Node's Module is this module's constructor, not `require('node:module')`: that loads Node's ESM",
  '// loader (about 4.7 million instructions when the application is a file, the usual case).',
  'const NodeModule = module.constructor;',
  "if (typeof NodeModule !== 'function' || typeof NodeModule._load !== 'function' || require.cache === undefined || require.cache !== NodeModule._cache) {",
];

/** A bundle other than the start-up one: `load(key)` exported, for the modules of `modules`. */
function laterBundle(mark, modules, what) {
  return [
    mark,
    `// Generated by scripts/bundle-register.js from ${modules.length} files of dist/lib, as dist/lib/register.js is;`,
    `// do not edit. ${what}`,
    '// It exports load(key), which gives the module of dist/lib/<key>, each run once, as Node would.',
    "'use strict';",
    ...NODE_LOADER_CHECK,
    "  module.exports = (key) => require('./' + key);",
    '} else {',
    'module.exports = (function () {',
    ...loaderLines(modules),
    '  return load;',
    '})();',
    '}',
    '',
  ].join('\n');
}

function main() {
  const current = fs.readFileSync(ENTRY, 'utf8');
  if (current.startsWith(MARK)) throw new Error(`${ENTRY} is already the bundle: run tsc first (npm run build)`);
  const files = startupFiles(ENTRY);
  if (files[0] !== ENTRY) throw new Error(`the probe did not load ${ENTRY} first: ${files[0]}`);
  // What applying the environment loads (lib/environment.ts), and what the register preload's
  // stubs load on their first call (lib/lazy-install.ts: patch.js and what it loads), each
  // beyond start-up; a module both need is the environment bundle's.
  const envFiles = startupFiles(ENTRY, ENV_ENTRY);
  if (envFiles[0] !== ENV_ENTRY) throw new Error(`the probe did not load ${ENV_ENTRY} first: ${envFiles[0]}`);
  const laterFiles = startupFiles(ENTRY, FIRST_USE_ENTRY).filter((file) => !envFiles.includes(file));
  if (laterFiles[0] !== FIRST_USE_ENTRY) throw new Error(`the probe did not load ${FIRST_USE_ENTRY} first: ${laterFiles[0]}`);
  const owner = new Map([...envFiles.map((file) => [file, ENV_NAME]), ...laterFiles.map((file) => [file, FIRST_USE_NAME])]);
  const others = (name) => new Map([...owner].filter(([, bundle]) => bundle !== name));
  const modules = readModules(files, new Set(files), owner);
  // A later bundle's requires of start-up modules are served from require.cache by key, as the
  // start-up bundle put them there (a require Node resolves costs a path lookup on disk each).
  const envModules = readModules(envFiles, new Set([...envFiles, ...files]), others(ENV_NAME));
  const laterModules = readModules(laterFiles, new Set([...laterFiles, ...files]), others(FIRST_USE_NAME));
  const [entry, ...rest] = modules;
  const out = [
    MARK,
    `// Generated by scripts/bundle-register.js from ${modules.length} files of dist/lib, each in Node's module wrapper,`,
    '// its text unchanged but for \\u escapes; do not edit. That script says why, and why this is not a second copy.',
    "'use strict';",
    ...NODE_LOADER_CHECK,
    "  require('./register-files.js');",
    '} else {',
    'const bundle = (function () {',
    ...loaderLines(rest),
    '  return requireFor(module, ' + JSON.stringify(entry.deps) + ');',
    '})();',
    `// ${entry.key}, with its relative requires served by the bundle:`,
    '(function (require) {',
    entry.text,
    '})(bundle);',
    '}',
    '',
  ].join('\n');
  const env = laterBundle(ENV_MARK, envModules, 'The register preload requires it at start-up when a TIMEOUTSOCKET_* variable is set (lib/preload-env.ts), the first-use bundle otherwise.');
  const firstUse = laterBundle(FIRST_USE_MARK, laterModules, 'The register preload requires it when its stubs first run (lib/lazy-install.ts).');
  fs.copyFileSync(ENTRY, FILES_ENTRY);
  fs.writeFileSync(ENTRY, out);
  fs.writeFileSync(path.join(LIB, ENV_NAME), env);
  fs.writeFileSync(path.join(LIB, FIRST_USE_NAME), firstUse);
  const size = (text) => `${Math.round(text.length / 1024)} KiB`;
  process.stdout.write(`bundle-register: ${path.relative(process.cwd(), ENTRY)} holds ${modules.length} modules (${size(out)}), ${ENV_NAME} ${envModules.length} (${size(env)}), ${FIRST_USE_NAME} ${laterModules.length} (${size(firstUse)})\n`);
}

main();
