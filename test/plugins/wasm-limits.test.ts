// Static checks of guest modules: the memory cap rewrite and the import whitelist.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PluginError } from '../../host/plugins/errors.js';
import { capMemory, checkImports, prepareModule, readWasmLayout } from '../../host/plugins/wasm-limits.js';
import { guestWasm, testGuestWasm } from './helpers.js';

const test = suite('plugins: wasm limits');

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const str = (s: string) => [s.length, ...Buffer.from(s)];
/** A module with a single section. */
const mod = (id: number, body: number[]) => Uint8Array.from([...HEADER, id, body.length, ...body]);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, PluginError);
    return (err as PluginError).code;
  }
  return 'accepted';
}

test('the memory section gets a maximum (and keeps a smaller one)', () => {
  const noop = guestWasm('noop');
  assert.equal(readWasmLayout(noop).memories, [{ initialPages: 1, maximumPages: null, shared: false, memory64: false }]);
  const capped = capMemory(noop, 64, 'noop');
  assert.equal(readWasmLayout(capped).memories, [{ initialPages: 1, maximumPages: 64, shared: false, memory64: false }]);
  const tighter = mod(5, [1, 0x01, 1, 8]); // min 1, max 8
  assert.is(readWasmLayout(capMemory(tighter, 64, 't')).memories[0]!.maximumPages, 8);
  const looser = mod(5, [1, 0x01, 1, 0x80, 0x02]); // min 1, max 256
  assert.is(readWasmLayout(capMemory(looser, 64, 't')).memories[0]!.maximumPages, 64);
});

test('the capped module really cannot grow past the cap', async () => {
  interface Mem {
    buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  const W = (globalThis as unknown as { WebAssembly: { instantiate(b: Uint8Array, i: object): Promise<{ instance: { exports: { memory: Mem } } }> } }).WebAssembly;
  const anyFn = () => 0n;
  const stubs = new Proxy({}, { get: () => anyFn });
  const { instance } = await W.instantiate(capMemory(guestWasm('noop'), 16, 'noop'), { 'extism:host/env': stubs, 'extism:host/user': stubs });
  const mem = instance.exports.memory;
  assert.throws(() => mem.grow(100), RangeError, 'growing past 16 pages fails');
  assert.ok(mem.grow(1) >= 1, 'growing within the cap works');
  assert.ok(mem.buffer.byteLength <= 16 * 65536);
});

test('refused: initial memory above the cap, 64-bit memory, garbage', () => {
  assert.is(code(() => capMemory(mod(5, [1, 0x00, 100]), 64, 'big')), 'MEMORY_LIMIT');
  assert.is(code(() => capMemory(mod(5, [1, 0x04, 1]), 64, 'm64')), 'MEMORY_LIMIT');
  assert.is(code(() => readWasmLayout(Uint8Array.from([1, 2, 3]), 'junk')), 'WASM_INVALID');
  assert.is(code(() => capMemory(Uint8Array.from([...HEADER, 5, 40, 1]), 64, 'cut')), 'WASM_INVALID');
});

test('imports: only the Extism kernel and host API v1', () => {
  const imp = (module: string, name: string, kind = 0, extra: number[] = [0]) => mod(2, [1, ...str(module), ...str(name), kind, ...extra]);
  assert.is(code(() => checkImports(readWasmLayout(imp('extism:host/env', 'alloc')), 'a')), 'accepted');
  assert.is(code(() => checkImports(readWasmLayout(imp('extism:host/user', 'hearth_kv_get')), 'a')), 'accepted');
  assert.is(code(() => checkImports(readWasmLayout(imp('extism:host/user', 'hearth_sudo')), 'a')), 'FORBIDDEN_IMPORT');
  assert.is(code(() => checkImports(readWasmLayout(imp('extism:host/env', 'open_socket')), 'a')), 'FORBIDDEN_IMPORT');
  assert.is(code(() => checkImports(readWasmLayout(imp('env', 'abort')), 'a')), 'FORBIDDEN_IMPORT');
  assert.is(code(() => checkImports(readWasmLayout(imp('wasi_snapshot_preview1', 'fd_write')), 'a')), 'FORBIDDEN_IMPORT');
  assert.is(code(() => checkImports(readWasmLayout(imp('extism:host/env', 'memory', 2, [0x00, 1])), 'a')), 'FORBIDDEN_IMPORT');
  assert.is(code(() => checkImports(readWasmLayout(testGuestWasm('wasi')), 'wasi')), 'FORBIDDEN_IMPORT');
  assert.is(code(() => checkImports(readWasmLayout(testGuestWasm('network')), 'network')), 'accepted', 'http_request may be imported; calls are denied');
});

test('prepareModule checks that declared hooks are exported', async () => {
  const err = await prepareModule(guestWasm('noop'), { pluginId: 'noop', maxPages: 16, requiredExports: ['on_timer', 'on_audio'] }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.is((err as PluginError).code, 'MISSING_EXPORT');
  assert.match((err as Error).message, /on_audio/);
});

test.run();
