#!/usr/bin/env node
// A native-solc command line over solc-js (npm `solc`), for py-solc-x, ape-solidity, forge and
// slither on machines where the native binary cannot be downloaded.
// Supported: --version, --standard-json (input on stdin) with --base-path, --include-path and
// --allow-paths. Anything else is refused with a one-line error.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(msg) {
  process.stderr.write(`solc (accord wrapper): ${msg}\n`);
  process.exit(1);
}

let solc;
try {
  solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));
} catch (e) {
  fail("the npm package 'solc' is not installed; run 'make setup' in the project root");
}

const argv = process.argv.slice(2);
let basePath = null;
const includePaths = [];
const allowPaths = [];
let standardJson = false;
let wantVersion = false;

for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const takeValue = () => {
    if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
    if (i + 1 >= argv.length) fail(`option ${a} needs a value`);
    return argv[++i];
  };
  if (a === '--version' || a === '-v') wantVersion = true;
  else if (a === '--standard-json') standardJson = true;
  else if (a.startsWith('--base-path')) basePath = takeValue();
  else if (a.startsWith('--include-path')) includePaths.push(takeValue());
  else if (a.startsWith('--allow-paths')) allowPaths.push(...takeValue().split(',').filter(Boolean));
  else if (a === '-' ) { /* stdin marker */ }
  else if (a === '--pretty-json' || a === '--no-color') { /* cosmetic */ }
  else fail(`unsupported option '${a}': this wrapper speaks --version and --standard-json only`);
}

// solc-js reports e.g. 0.8.30+commit.73712a01.Emscripten.clang; native reports .Linux.g++.
const longVersion = solc.version().replace('.Emscripten.clang', '.Linux.g++');

if (wantVersion) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${longVersion}\n`);
  process.exit(0);
}
if (!standardJson) fail('nothing to do: pass --version or --standard-json');

const roots = [basePath || process.cwd(), ...includePaths].map((p) => path.resolve(p));
const allowed = [...roots, ...allowPaths.map((p) => path.resolve(p))];

function isAllowed(abs) {
  return allowed.some((root) => abs === root || abs.startsWith(root + path.sep));
}

function findImport(importPath) {
  const candidates = path.isAbsolute(importPath)
    ? [importPath]
    : roots.map((root) => path.join(root, importPath));
  for (const abs of candidates) {
    if (!isAllowed(abs)) continue;
    try {
      return { contents: fs.readFileSync(abs, 'utf8') };
    } catch (e) { /* try the next root */ }
  }
  return { error: `File not found in base path or include paths: ${importPath}` };
}

const input = fs.readFileSync(0, 'utf8');
let parsed;
try {
  parsed = JSON.parse(input);
} catch (e) {
  fail(`standard JSON input is not valid JSON: ${e.message}`);
}
// Native solc reads `urls` sources from disk; solc-js only accepts `content`.
for (const [name, src] of Object.entries(parsed.sources || {})) {
  if (src.content === undefined && Array.isArray(src.urls)) {
    const found = src.urls.map(findImport).find((r) => r.contents !== undefined);
    if (!found) fail(`source ${name}: none of its urls could be read`);
    parsed.sources[name] = { content: found.contents };
  }
}
process.stdout.write(solc.compile(JSON.stringify(parsed), { import: findImport }));
