// Static checks and rewrites of a guest's wasm before it is compiled.
//
// Memory cap: Extism's `memory.maxPages` only bounds the SDK's own buffers,
// not the guest's linear memory (a guest grew to 68 MiB with maxPages 16).
// So the host rewrites the module's memory section: every defined memory gets
// a maximum of at most `maxPages`. memory.grow past it returns -1 (the
// AssemblyScript allocator then traps), enforced by the Wasm engine itself at
// no per-call cost.
//
// Imports: only Extism's kernel ("extism:host/env") and the Hearth host API
// ("extism:host/user") may be imported. WASI, "env" and anything else is
// refused at load time with a clear error (defence in depth: Extism would also
// refuse WASI with useWasi false).
import { HOST_FUNCTIONS, HOST_MODULE, KERNEL_MODULE } from './capabilities.js';
import { PluginError } from './errors.js';
import { Wasm, type WasmModule } from './platform.js';

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;

interface Reader {
  bytes: Uint8Array;
  pos: number;
}

/** Unsigned LEB128 of at most `bits` bits (32 or 64), as a JS number. */
function readUnsigned(r: Reader, bits: 32 | 64): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (r.pos >= r.bytes.length) throw new Error('truncated LEB128');
    const b = r.bytes[r.pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) break;
    shift += 7;
    if (shift > (bits === 32 ? 35 : 63)) throw new Error('LEB128 too long');
  }
  if (bits === 32 && result > 0xffffffff) throw new Error('LEB128 overflows u32');
  return result;
}

const readU32 = (r: Reader): number => readUnsigned(r, 32);
const readU64AsNumber = (r: Reader): number => readUnsigned(r, 64);

function encodeU32(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function readName(r: Reader): string {
  const len = readU32(r);
  const s = new TextDecoder('utf-8', { fatal: true }).decode(r.bytes.subarray(r.pos, r.pos + len));
  r.pos += len;
  return s;
}

export interface MemoryInfo {
  initialPages: number;
  maximumPages: number | null;
  shared: boolean;
  memory64: boolean;
}

export interface WasmImport {
  module: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
}

export interface WasmLayout {
  imports: WasmImport[];
  memories: MemoryInfo[];
}

const IMPORT_KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;

function skipLimits(r: Reader): void {
  const flags = r.bytes[r.pos++]!;
  readU64AsNumber(r);
  if (flags & 1) readU64AsNumber(r);
}

function readMemoryType(r: Reader): MemoryInfo {
  const flags = r.bytes[r.pos++]!;
  if (flags > 7) throw new Error(`unknown memory limits flags 0x${flags.toString(16)}`);
  const initialPages = readU64AsNumber(r);
  const maximumPages = flags & 1 ? readU64AsNumber(r) : null;
  return { initialPages, maximumPages, shared: Boolean(flags & 2), memory64: Boolean(flags & 4) };
}

function parseError(id: string | undefined, err: unknown): PluginError {
  return new PluginError('WASM_INVALID', `plugin ${id ?? '?'}: not a valid wasm module: ${(err as Error).message}`, id);
}

function checkHeader(bytes: Uint8Array): void {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('missing \\0asm header');
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw new Error('unsupported wasm version');
}

/** Reads the imports and the memory declarations (defined and imported). */
export function readWasmLayout(bytes: Uint8Array, pluginId?: string): WasmLayout {
  const layout: WasmLayout = { imports: [], memories: [] };
  try {
    checkHeader(bytes);
    const r: Reader = { bytes, pos: 8 };
    while (r.pos < bytes.length) {
      const id = bytes[r.pos++]!;
      const size = readU32(r);
      const end = r.pos + size;
      if (end > bytes.length) throw new Error('section runs past the end of the module');
      if (id === SECTION_IMPORT) {
        const count = readU32(r);
        for (let i = 0; i < count; i++) {
          const module = readName(r);
          const name = readName(r);
          const kindByte = bytes[r.pos++]!;
          const kind = IMPORT_KINDS[kindByte];
          if (!kind) throw new Error(`unknown import kind ${kindByte}`);
          layout.imports.push({ module, name, kind });
          if (kind === 'function') readU32(r);
          else if (kind === 'table') {
            r.pos++; // reftype
            skipLimits(r);
          } else if (kind === 'memory') layout.memories.push(readMemoryType(r));
          else if (kind === 'global') r.pos += 2; // valtype + mutability
          else {
            r.pos++; // tag attribute
            readU32(r);
          }
        }
      } else if (id === SECTION_MEMORY) {
        const count = readU32(r);
        for (let i = 0; i < count; i++) layout.memories.push(readMemoryType(r));
      }
      r.pos = end;
    }
  } catch (err) {
    throw err instanceof PluginError ? err : parseError(pluginId, err);
  }
  return layout;
}

/** Kernel functions a guest may import from "extism:host/env". */
const KERNEL_FUNCTIONS = new Set([
  'alloc',
  'free',
  'length',
  'length_unsafe',
  'load_u8',
  'load_u64',
  'store_u8',
  'store_u64',
  'input_offset',
  'input_length',
  'input_load_u8',
  'input_load_u64',
  'output_set',
  'error_set',
  'error_get',
  'config_get',
  'var_get',
  'var_set',
  'log_trace',
  'log_debug',
  'log_info',
  'log_warn',
  'log_error',
  'get_log_level',
  // Importable so that a guest using them loads; every call is denied (no network).
  'http_request',
  'http_status_code',
  'http_headers',
]);

/** Refuses any import outside the Extism kernel and the Hearth host API. */
export function checkImports(layout: WasmLayout, pluginId: string): void {
  for (const imp of layout.imports) {
    const what = `${imp.module}.${imp.name}`;
    if (imp.module === 'wasi_snapshot_preview1' || imp.module.startsWith('wasi')) {
      throw new PluginError(
        'FORBIDDEN_IMPORT',
        `plugin ${pluginId} imports ${what}: WASI is not available to Hearth plugins (no file system, clocks or sockets)`,
        pluginId,
      );
    }
    if (imp.kind !== 'function') {
      throw new PluginError('FORBIDDEN_IMPORT', `plugin ${pluginId} imports a ${imp.kind} (${what}); plugins may only import functions`, pluginId);
    }
    if (imp.module === KERNEL_MODULE) {
      if (!KERNEL_FUNCTIONS.has(imp.name)) {
        throw new PluginError('FORBIDDEN_IMPORT', `plugin ${pluginId} imports ${what}, which the Extism kernel does not provide`, pluginId);
      }
    } else if (imp.module === HOST_MODULE) {
      if (!Object.hasOwn(HOST_FUNCTIONS, imp.name)) {
        throw new PluginError('FORBIDDEN_IMPORT', `plugin ${pluginId} imports ${what}, which is not part of host API v1`, pluginId);
      }
    } else {
      throw new PluginError(
        'FORBIDDEN_IMPORT',
        `plugin ${pluginId} imports ${what}; only "${KERNEL_MODULE}" and "${HOST_MODULE}" can be imported`,
        pluginId,
      );
    }
  }
}

/**
 * Returns a copy of the module whose every defined memory has a maximum of at
 * most `maxPages`. Refuses 64-bit memories and a module that needs more than
 * `maxPages` just to start.
 */
export function capMemory(bytes: Uint8Array, maxPages: number, pluginId: string): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  try {
    checkHeader(bytes);
    const r: Reader = { bytes, pos: 8 };
    while (r.pos < bytes.length) {
      const start = r.pos;
      const id = bytes[r.pos++]!;
      const size = readU32(r);
      const end = r.pos + size;
      if (end > bytes.length) throw new Error('section runs past the end of the module');
      if (id !== SECTION_MEMORY) {
        parts.push(bytes.subarray(start, end));
        r.pos = end;
        continue;
      }
      const count = readU32(r);
      const body: number[] = encodeU32(count);
      for (let i = 0; i < count; i++) {
        const mem = readMemoryType(r);
        if (mem.memory64) {
          throw new PluginError('MEMORY_LIMIT', `plugin ${pluginId} declares a 64-bit memory, which Hearth does not run`, pluginId);
        }
        if (mem.initialPages > maxPages) {
          throw new PluginError(
            'MEMORY_LIMIT',
            `plugin ${pluginId} needs ${mem.initialPages} pages (${mem.initialPages / 16} MiB) of memory at start, more than its limit of ${maxPages} pages`,
            pluginId,
          );
        }
        const max = mem.maximumPages === null ? maxPages : Math.min(mem.maximumPages, maxPages);
        body.push(0x01 | (mem.shared ? 0x02 : 0), ...encodeU32(mem.initialPages), ...encodeU32(max));
      }
      if (r.pos !== end) throw new Error('trailing bytes in the memory section');
      parts.push(Uint8Array.from([SECTION_MEMORY, ...encodeU32(body.length), ...body]));
      r.pos = end;
    }
  } catch (err) {
    throw err instanceof PluginError ? err : parseError(pluginId, err);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Checks the imports, caps the memory and compiles. Imported memories are
 * refused by checkImports (Extism cannot provide one anyway), so the memory
 * section covers every memory the guest can touch.
 */
export async function prepareModule(
  bytes: Uint8Array,
  opts: { pluginId: string; maxPages: number; requiredExports: readonly string[] },
): Promise<WasmModule> {
  const layout = readWasmLayout(bytes, opts.pluginId);
  checkImports(layout, opts.pluginId);
  const capped = capMemory(bytes, opts.maxPages, opts.pluginId);
  let module: WasmModule;
  try {
    module = await Wasm.compile(capped);
  } catch (err) {
    throw parseError(opts.pluginId, err);
  }
  const exported = new Set(Wasm.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name));
  const missing = opts.requiredExports.filter((e) => !exported.has(e));
  if (missing.length) {
    throw new PluginError('MISSING_EXPORT', `plugin ${opts.pluginId} declares hooks it does not export: ${missing.join(', ')}`, opts.pluginId);
  }
  return module;
}
