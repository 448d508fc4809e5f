// Compilers for C and JavaScript plugins (`hearth plugin build`; plugin-dev.ts
// picks the language from the source file: index.ts, index.c or plugin.js).
//
// C: Debian's clang + lld, `--target=wasm32-unknown-unknown -nostdlib
// -Wl,--no-entry`, with sdk/c/hearth.c and hearth_json.c linked in (it defines memcpy/memset:
// without them clang would import them from "env", which the host refuses).
//
// JavaScript: QuickJS (C sources from the npm package `qjsc`) compiled with
// clang for wasm32-wasi against Debian's wasi-libc, plus sdk/js/engine.c and
// sdk/js/wasi-stubs.c (libc's WASI calls answered inside the module, so only
// Extism's imports remain). The engine's objects are compiled once and cached
// (~40 s on 2 cores); each plugin build then compiles one generated C file
// (the SDK prelude sdk/js/hearth.js, the plugin's source, one export per hook
// of its manifest), links, checks that the source loads, and pre-initialises
// the module with wizer (npm @bytecodealliance/wizer): the snapshot starts with
// the plugin already evaluated (first call ~20 ms instead of ~90 ms).
//
// Missing tools are reported with the command that installs them
// (scripts/ensure-toolchains.sh).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Script } from 'node:vm';
import { Wasm, type WasmMemory } from './wasm-api.js';

const run = promisify(execFile);

/** A problem the user can fix; plugin-dev.ts re-throws it as PluginDevError. */
export class ToolchainError extends Error {
  override name = 'PluginDevError';
}

export const INSTALL_HINT = 'run `sh scripts/ensure-toolchains.sh` in the Hearth sources (Debian: apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32)';
const WASI_LIBC = '/usr/lib/wasm32-wasi/libc.a';
const QJS_VERSION = '2021-03-27';

function clang(): string {
  return process.env.HEARTH_CLANG ?? 'clang';
}

async function runTool(cmd: string, args: string[], what: string, cwd?: string): Promise<void> {
  try {
    await run(cmd, args, { maxBuffer: 16 * 1024 * 1024, ...(cwd ? { cwd } : {}) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; stdout?: string };
    if (e.code === 'ENOENT') throw new ToolchainError(`${what}: ${cmd} is not installed; ${INSTALL_HINT}`);
    const out = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim();
    throw new ToolchainError(`${what} failed:\n${out || e.message}`);
  }
}

/** What is missing to build C (and JavaScript) guests here; [] when everything is present. */
export async function missingTools(lang: 'c' | 'js'): Promise<string[]> {
  const missing: string[] = [];
  try {
    await run(clang(), ['--version']);
  } catch {
    missing.push('clang');
  }
  try {
    await run('wasm-ld', ['--version']);
  } catch {
    missing.push('lld (wasm-ld)');
  }
  if (lang === 'js') {
    if (!existsSync(WASI_LIBC)) missing.push(`wasi-libc (${WASI_LIBC})`);
    if (!quickjsDir()) missing.push('the npm package qjsc (QuickJS sources)');
    if (!wizerPath()) missing.push('the npm package @bytecodealliance/wizer (linux-x64)');
  }
  return missing;
}

function sdkDir(): string {
  return new URL('../../../sdk/', import.meta.url).pathname;
}

// ---- C ------------------------------------------------------------------------

/** Compiles <dir>/index.c with the C SDK; throws ToolchainError with clang's diagnostics. */
export async function compileC(dir: string, extraSources: string[] = []): Promise<Uint8Array> {
  const sdkC = join(sdkDir(), 'c');
  const work = await mkdtemp(join(tmpdir(), 'hearth-c-'));
  const out = join(work, 'plugin.wasm');
  try {
    await runTool(
      clang(),
      [
        '--target=wasm32-unknown-unknown',
        '-nostdlib',
        '-O2',
        '-Wall',
        '-Wl,--no-entry',
        // The hooks are exported by name (HEARTH_HOOK); nothing else need be.
        '-Wl,--strip-all',
        '-I',
        sdkC,
        join(dir, 'index.c'),
        ...extraSources,
        join(sdkC, 'hearth.c'),
        join(sdkC, 'hearth_json.c'),
        '-o',
        out,
      ],
      `${join(dir, 'index.c')} does not compile`,
    );
    return new Uint8Array(await readFile(out));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// ---- JavaScript -------------------------------------------------------------------

function quickjsDir(): string | null {
  // HEARTH_QUICKJS_DIR: QuickJS sources elsewhere (a checkout, another install).
  const override = process.env.HEARTH_QUICKJS_DIR;
  if (override) return existsSync(join(override, 'quickjs.c')) ? override : null;
  try {
    const pkg = createRequire(import.meta.url).resolve('qjsc/package.json');
    const dir = join(dirname(pkg), 'deps', `quickjs_${QJS_VERSION.replace(/-/g, '_')}`);
    return existsSync(join(dir, 'quickjs.c')) ? dir : null;
  } catch {
    return null;
  }
}

function wizerPath(): string | null {
  if (process.env.HEARTH_WIZER) return process.env.HEARTH_WIZER;
  try {
    const pkg = createRequire(import.meta.url).resolve('@bytecodealliance/wizer-linux-x64/package.json');
    const bin = join(dirname(pkg), 'wizer');
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

const QJS_FLAGS = [
  '--target=wasm32-wasi',
  '-O2',
  // EMSCRIPTEN: QuickJS's switch for "no threads, no malloc_usable_size, no
  // native stack probing"; exactly wasm32-wasi's situation.
  '-DEMSCRIPTEN',
  `-DCONFIG_VERSION="${QJS_VERSION}"`,
  '-D_GNU_SOURCE',
  '-Wno-everything',
];

/**
 * The engine's object files (QuickJS + engine.c + wasi-stubs.c), compiled once
 * per content hash into sdk/js/build/ (or the temp directory when the
 * installation is read-only).
 */
async function engineObjects(): Promise<string[]> {
  const qjs = quickjsDir();
  if (!qjs) throw new ToolchainError(`JavaScript plugins need QuickJS's sources from the npm package qjsc; ${INSTALL_HINT}`);
  const sdkJs = join(sdkDir(), 'js');
  const units = [
    ...['quickjs', 'libregexp', 'libunicode', 'cutils'].map((n) => ({ name: n, src: join(qjs, `${n}.c`), flags: ['-include', join(sdkJs, 'compat.h')] })),
    { name: 'engine', src: join(sdkJs, 'engine.c'), flags: ['-I', qjs] },
    { name: 'wasi-stubs', src: join(sdkJs, 'wasi-stubs.c'), flags: [] },
  ];
  // One object per unit, named by the hash of what goes into it: editing
  // engine.c recompiles engine.c only, never QuickJS.
  const compat = await readFile(join(sdkJs, 'compat.h'));
  let cache = join(sdkJs, 'build');
  try {
    await mkdir(cache, { recursive: true });
  } catch {
    cache = join(tmpdir(), 'hearth-js-engine');
    await mkdir(cache, { recursive: true });
  }
  const objects: string[] = [];
  const todo: { name: string; src: string; flags: string[]; obj: string }[] = [];
  for (const u of units) {
    const key = createHash('sha256').update(QJS_FLAGS.join(' ')).update(u.flags.join(' ')).update(compat).update(await readFile(u.src)).digest('hex').slice(0, 16);
    const obj = join(cache, `${u.name}-${key}.o`);
    objects.push(obj);
    if (!existsSync(obj)) todo.push({ ...u, obj });
  }
  // quickjs.c dominates (~35 s); the others take a second each.
  const lanes = Math.max(1, Math.min(availableParallelism(), 4));
  for (let i = 0; i < todo.length; i += lanes) {
    await Promise.all(
      todo.slice(i, i + lanes).map(async (u) => {
        const tmp = `${u.obj}.${process.pid}.tmp`;
        await runTool(clang(), [...QJS_FLAGS, ...u.flags, '-c', u.src, '-o', tmp], `compiling ${u.name}.c for the JavaScript engine`);
        // Renamed only when complete: a killed build never leaves a truncated object behind.
        await rename(tmp, u.obj);
      }),
    );
  }
  return objects;
}

function cBytes(name: string, bytes: Uint8Array): string {
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += 24) rows.push(Array.from(bytes.subarray(i, i + 24), (b) => `${b}`).join(','));
  return `const char ${name}[] = {\n${rows.join(',\n')}${bytes.length ? ',' : ''}0};\nconst uint32_t ${name}_len = ${bytes.length};\n`;
}

/** The per-plugin C file: prelude, plugin source, one export per hook. */
function generatedSource(prelude: Uint8Array, source: Uint8Array, hooks: readonly string[]): string {
  return [
    '/* Generated by hearth plugin build: the SDK prelude, plugin.js and the hook exports. */',
    '#include <stdint.h>',
    cBytes('hearth_js_prelude', prelude),
    cBytes('hearth_js_source', source),
    'int32_t hearth_js_hook(const char *name);',
    ...hooks.map((h) => `__attribute__((export_name("${h}"))) int32_t ${h}(void) { return hearth_js_hook("${h}"); }`),
    '',
  ].join('\n');
}

/**
 * Runs the linked module's hearth_js_try_init in Node, imports stubbed, so a
 * plugin whose top-level code throws fails the build with its message.
 */
async function checkLoads(wasm: Uint8Array, file: string): Promise<void> {
  const module = await Wasm.compile(wasm);
  const imports: Record<string, Record<string, () => never>> = {};
  for (const imp of Wasm.Module.imports(module)) {
    (imports[imp.module] ??= {})[imp.name] = () => {
      throw new ToolchainError(`${file}: its top-level code calls ${imp.name}; host functions can only be called from hooks`);
    };
  }
  const instance = await Wasm.instantiate(module, imports);
  const ex = instance.exports as unknown as { hearth_js_try_init(): number; hearth_js_error(): number; memory: WasmMemory };
  if (ex.hearth_js_try_init() === 0) return;
  const mem = new Uint8Array(ex.memory.buffer);
  const at = ex.hearth_js_error();
  let end = at;
  while (end < mem.length && mem[end] !== 0) end++;
  throw new ToolchainError(`${file} does not load: ${new TextDecoder().decode(mem.subarray(at, end))}`);
}

/** Builds <dir>/plugin.js into a pre-initialised QuickJS guest exporting `hooks`. */
export async function compileJs(dir: string, hooks: readonly string[], log: (line: string) => void = () => {}): Promise<Uint8Array> {
  const file = join(dir, 'plugin.js');
  const source = await readFile(file);
  try {
    // Node's parser for a readable syntax error with a line number (QuickJS's would only show at init).
    new Script(source.toString('utf8'), { filename: file });
  } catch (err) {
    throw new ToolchainError(`${file} does not parse: ${(err as Error).message}`);
  }
  const missing = await missingTools('js');
  if (missing.length) throw new ToolchainError(`JavaScript plugins need ${missing.join(', ')}; ${INSTALL_HINT}`);
  const sdkJs = join(sdkDir(), 'js');
  const cached = existsSync(join(sdkJs, 'build'));
  const t0 = performance.now();
  const objects = await engineObjects();
  if (!cached || performance.now() - t0 > 2000) log(`compiled the JavaScript engine (QuickJS ${QJS_VERSION}) in ${((performance.now() - t0) / 1000).toFixed(1)} s (cached for later builds)\n`);
  const work = await mkdtemp(join(tmpdir(), 'hearth-js-'));
  try {
    const gen = join(work, 'plugin-gen.c');
    await writeFile(gen, generatedSource(await readFile(join(sdkJs, 'hearth.js')), source, hooks));
    const linked = join(work, 'linked.wasm');
    await runTool(
      clang(),
      [...QJS_FLAGS, '-nostartfiles', '-Wl,--no-entry', '-Wl,--strip-all', gen, ...objects, '-o', linked],
      'linking the JavaScript guest',
    );
    const linkedBytes = new Uint8Array(await readFile(linked));
    await checkLoads(linkedBytes, file);
    const out = join(work, 'plugin.wasm');
    await runTool(wizerPath()!, ['--init-func', 'hearth_js_init', '-o', out, linked], 'pre-initialising the JavaScript guest (wizer)');
    return new Uint8Array(await readFile(out));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
