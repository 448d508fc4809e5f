// Typed access to the two platform APIs the plugin runtime needs that the
// project's TypeScript libs (ES2022, no DOM) do not declare: the WebAssembly
// namespace and Atomics.waitAsync (Node 20 has both). Kept module-local on
// purpose: no global declarations that could clash with other code.

/** An opaque compiled module (WebAssembly.Module); it can be sent to a worker. */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}

/** WebAssembly.Memory, as far as the runtime uses it. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

export interface WasmExportDescriptor {
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
}

interface WasmNamespace {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Module: { exports(module: WasmModule): WasmExportDescriptor[] };
  Memory: abstract new (...args: never[]) => WasmMemory;
}

export const Wasm = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly;

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

const atomics = Atomics as unknown as { waitAsync(ia: Int32Array, index: number, value: number, timeoutMs?: number): WaitAsyncResult };

/** Atomics.waitAsync(ia, index, value, timeoutMs). */
export function waitAsync(ia: Int32Array, index: number, value: number, timeoutMs: number): WaitAsyncResult {
  return atomics.waitAsync(ia, index, value, timeoutMs);
}
