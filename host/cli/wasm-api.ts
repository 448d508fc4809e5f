// The slice of the WebAssembly namespace the plugin build tools use (the
// project's TypeScript libs have no DOM, so no WebAssembly types; like
// host/plugins/platform.ts, typed locally instead of declared globally).
export interface WasmModuleDescriptor {
  module: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
}
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}
export interface WasmInstance {
  exports: Record<string, unknown>;
}
interface WasmNamespace {
  Module: {
    new (bytes: Uint8Array): WasmModule;
    exports(module: WasmModule): Omit<WasmModuleDescriptor, 'module'>[];
    imports(module: WasmModule): WasmModuleDescriptor[];
  };
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: Record<string, Record<string, unknown>>): Promise<WasmInstance>;
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

export const Wasm = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly;
