#!/usr/bin/env node
// Builds the C and JavaScript guests the tests run (after tsc: it uses the
// compiled `hearth plugin build`, dist/host/cli/plugin-dev.js, so there is one
// build path for users and tests):
//   examples/<name>/ with index.c or plugin.js
//     -> test/plugins/guests/build/native/<name>/ (a copy: manifest.json with
//        its sha256, the sources, and the wasm)
// A guest is rebuilt only when its example directory (or the C/JS SDK) is newer
// than its wasm; --force rebuilds all.
//
// Missing toolchains (clang, lld, wasi-libc, the npm packages qjsc and
// @bytecodealliance/wizer) are not an error here: the guest is skipped with a
// message naming scripts/ensure-toolchains.sh, and the tests that need it fail
// with the same message.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const outRoot = join(root, 'test', 'plugins', 'guests', 'build', 'native');
const dist = join(root, 'dist', 'host', 'cli');

if (!existsSync(join(dist, 'plugin-dev.js'))) {
  process.stdout.write('build-guests-native: dist/ is missing; run tsc first (npm run build does)\n');
  process.exit(0);
}
const { pluginBuild, detectLang } = await import(join(dist, 'plugin-dev.js'));
const { missingTools, INSTALL_HINT } = await import(join(dist, 'plugin-build.js'));

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'build') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const sdkMtime = Math.max(newest(join(root, 'sdk', 'c')), newest(join(root, 'sdk', 'js')), statSync(fileURLToPath(import.meta.url)).mtimeMs);
const missing = { c: await missingTools('c'), js: await missingTools('js') };
let failed = 0;
for (const e of readdirSync(join(root, 'examples'), { withFileTypes: true })) {
  if (!e.isDirectory() || (only.length && !only.includes(e.name))) continue;
  const src = join(root, 'examples', e.name);
  const lang = detectLang(src);
  if (lang !== 'c' && lang !== 'js') continue;
  if (missing[lang].length) {
    process.stdout.write(`build-guests-native: SKIPPED ${e.name} (${lang}): missing ${missing[lang].join(', ')}; ${INSTALL_HINT}\n`);
    continue;
  }
  const out = join(outRoot, e.name);
  const wasm = join(out, `${e.name}.wasm`);
  if (!force && existsSync(wasm) && statSync(wasm).mtimeMs >= Math.max(newest(src), sdkMtime)) continue;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  cpSync(src, out, { recursive: true });
  try {
    await pluginBuild(out, { write: (s) => process.stdout.write(`build-guests-native: ${s}`) });
  } catch (err) {
    failed++;
    rmSync(wasm, { force: true });
    process.stderr.write(`build-guests-native: ${e.name} FAILED: ${err.message}\n`);
  }
}
if (failed) process.exit(1);
