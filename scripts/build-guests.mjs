#!/usr/bin/env node
// Compiles the AssemblyScript plugins (no network needed):
//   guests/<name>/index.ts             -> guests/<name>/build/<name>.wasm
//   test/plugins/guests/<name>/index.as -> test/plugins/guests/build/<name>.wasm
// (test guests end in .as so that the project's tsc, which compiles
// test/**/*.ts, never sees AssemblyScript; this script maps the .as file to
// the .ts name asc expects).
// and writes the sha256 of each first-party guest into manifests/<name>.json
// (field wasm.sha256; wasm.file is set to "<name>.wasm").
//
// Every guest is built with the Hearth SDK's abort handler
// (`--use abort=sdk/assembly/index/hearthAbort`) because Extism provides no
// "env.abort" import: without it AssemblyScript's default abort would be an
// unresolvable import and the module would not load.
//
// A guest is rebuilt only when its sources or the SDK are newer than its wasm
// (pass --force to rebuild everything). Usage: node scripts/build-guests.mjs [--force] [name...]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const force = args.includes('--force');
const only = args.filter((a) => !a.startsWith('--'));

const ASC_FLAGS = ['-O3', '--runtime', 'incremental', '--use', 'abort=sdk/assembly/index/hearthAbort'];
// Per guest: the noise suppressor's learned gain runs its bin network with wasm SIMD (128-bit,
// in every engine Node ships; 3× less CPU than scalar code, docs/DSP.md).
const GUEST_FLAGS = { ns: ['--enable', 'simd'] };

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'build' || entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.as')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function listGuests(dir, outDirFor, ext) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'build' && existsSync(join(dir, e.name, `index${ext}`)))
    .map((e) => ({ name: e.name, entry: join(dir, e.name, 'index.ts'), out: join(outDirFor(e.name), `${e.name}.wasm`) }));
}

// asc asks for "<path>.ts"; an AssemblyScript test guest is stored as "<path>.as".
async function readSource(name, baseDir) {
  const path = join(baseDir, name);
  for (const candidate of [path, path.replace(/\.ts$/, '.as')]) {
    try {
      return readFileSync(candidate, 'utf8');
    } catch {
      // try the next spelling
    }
  }
  return null;
}

const firstParty = listGuests(join(root, 'guests'), (name) => join(root, 'guests', name, 'build'), '.ts');
const testGuests = listGuests(join(root, 'test', 'plugins', 'guests'), () => join(root, 'test', 'plugins', 'guests', 'build'), '.as');
const sdkMtime = newestMtime(join(root, 'sdk', 'assembly'));
const scriptMtime = statSync(fileURLToPath(import.meta.url)).mtimeMs;

let built = 0;
let failed = 0;
for (const guest of [...firstParty, ...testGuests]) {
  if (only.length && !only.includes(guest.name)) continue;
  const srcMtime = Math.max(newestMtime(dirname(guest.entry)), sdkMtime, scriptMtime);
  if (!force && existsSync(guest.out) && statSync(guest.out).mtimeMs >= srcMtime) continue;
  mkdirSync(dirname(guest.out), { recursive: true });
  const started = performance.now();
  const { error, stderr } = await asc.main(
    [relative(root, guest.entry), '--outFile', relative(root, guest.out), '--baseDir', root, ...ASC_FLAGS, ...(GUEST_FLAGS[guest.name] ?? [])],
    { readFile: readSource },
  );
  if (error) {
    failed++;
    process.stderr.write(`build-guests: ${guest.name} FAILED: ${error.message}\n${stderr.toString()}\n`);
    continue;
  }
  built++;
  process.stdout.write(`build-guests: ${relative(root, guest.out)} (${(performance.now() - started).toFixed(0)} ms)\n`);
}

// Record each first-party guest's sha256 in its manifest.
for (const guest of firstParty) {
  const manifestPath = join(root, 'manifests', `${guest.name}.json`);
  if (!existsSync(manifestPath) || !existsSync(guest.out)) continue;
  const sha256 = createHash('sha256').update(readFileSync(guest.out)).digest('hex');
  const text = readFileSync(manifestPath, 'utf8');
  const manifest = JSON.parse(text);
  if (manifest.wasm?.sha256 === sha256 && manifest.wasm?.file === `${guest.name}.wasm`) continue;
  manifest.wasm = { ...(manifest.wasm ?? {}), file: `${guest.name}.wasm`, sha256 };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  process.stdout.write(`build-guests: manifests/${guest.name}.json sha256 ${sha256.slice(0, 16)}…\n`);
}

if (failed) process.exit(1);
if (!built) process.stdout.write('build-guests: all guests up to date\n');
