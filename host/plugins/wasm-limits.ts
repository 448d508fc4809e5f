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
//
// Structure: sizes the engine allocates up front (tables above all) are
// checked first, in wasm-structure.ts, and every table gets a maximum here
// (the same rewrite as the memory's), so neither instantiation nor
// `table.grow` can make V8 allocate a table big enough to abort the process.
import { HOST_FUNCTIONS, HOST_MODULE, KERNEL_MODULE } from './capabilities.js';
import { PluginError } from './errors.js';
import { Wasm, type WasmModule } from './platform.js';
import { checkStructure, DEFAULT_MODULE_LIMITS, encodeU32, readU32, readUnsigned, type ModuleLimits, type Reader } from './wasm-structure.js';

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const SECTION_IMPORT = 2;
const SECTION_TABLE = 4;
const SECTION_MEMORY = 5;

const readU64AsNumber = (r: Reader): number => readUnsigned(r, 64);

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

/** Rewrites the sections `rewrite` knows (by id); every other section is copied as is. */
function rewriteSections(bytes: Uint8Array, pluginId: string, rewrite: Partial<Record<number, (r: Reader, end: number) => number[]>>): Uint8Array {
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
      const fn = rewrite[id];
      if (!fn) {
        parts.push(bytes.subarray(start, end));
        r.pos = end;
        continue;
      }
      const body = fn(r, end);
      if (r.pos !== end) throw new Error(`trailing bytes in section ${id}`);
      parts.push(Uint8Array.from([id, ...encodeU32(body.length), ...body]));
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

function memorySection(maxPages: number, pluginId: string) {
  return (r: Reader): number[] => {
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
    return body;
  };
}

/** Every table gets maximum = min(its own, what is left of `maxElements` after the tables' initial sizes). */
function tableSection(maxElements: number, pluginId: string) {
  return (r: Reader): number[] => {
    const count = readU32(r);
    const tables: { ref: number; initial: number; maximum: number | null }[] = [];
    for (let i = 0; i < count; i++) {
      const ref = r.bytes[r.pos++]!;
      if (ref !== 0x70 && ref !== 0x6f) throw new Error(`unsupported table type 0x${ref.toString(16)}`);
      const flags = r.bytes[r.pos++]!;
      if (flags > 1) throw new Error(`unsupported table limits flags 0x${flags.toString(16)}`);
      const initial = readU32(r);
      tables.push({ ref, initial, maximum: flags ? readU32(r) : null });
    }
    const initialSum = tables.reduce((n, t) => n + t.initial, 0);
    if (initialSum > maxElements) {
      throw new PluginError('MODULE_LIMIT', `plugin ${pluginId}: its tables start with ${initialSum} elements, more than its limit of ${maxElements} (limits.module.tableElements)`, pluginId);
    }
    // The room to grow is split evenly, so that all tables together stay within maxElements.
    const room = maxElements - initialSum;
    const body: number[] = encodeU32(count);
    for (const t of tables) {
      const cap = t.initial + Math.floor(room / Math.max(1, count));
      const max = t.maximum === null ? cap : Math.min(t.maximum, cap);
      body.push(t.ref, 0x01, ...encodeU32(t.initial), ...encodeU32(max));
    }
    return body;
  };
}

/**
 * Returns a copy of the module whose every defined memory has a maximum of at
 * most `maxPages`. Refuses 64-bit memories and a module that needs more than
 * `maxPages` just to start.
 */
export function capMemory(bytes: Uint8Array, maxPages: number, pluginId: string): Uint8Array {
  return rewriteSections(bytes, pluginId, { [SECTION_MEMORY]: memorySection(maxPages, pluginId) });
}

/** capMemory, and every table bounded so that all of them together hold at most `maxElements`. */
export function capModule(bytes: Uint8Array, maxPages: number, maxElements: number, pluginId: string): Uint8Array {
  return rewriteSections(bytes, pluginId, { [SECTION_MEMORY]: memorySection(maxPages, pluginId), [SECTION_TABLE]: tableSection(maxElements, pluginId) });
}

/**
 * Checks the structure (wasm-structure.ts) and the imports, caps the memory
 * and the tables, and compiles. Imported memories and tables are refused by
 * checkImports (Extism cannot provide them anyway), so the rewritten sections
 * cover everything the guest can grow. `module`: the manifest's
 * limits.module (defaults when absent).
 */
export async function prepareModule(
  bytes: Uint8Array,
  opts: { pluginId: string; maxPages: number; requiredExports: readonly string[]; module?: ModuleLimits },
): Promise<WasmModule> {
  const limits = opts.module ?? DEFAULT_MODULE_LIMITS;
  checkHeaderOrThrow(bytes, opts.pluginId);
  checkStructure(bytes, limits, opts.pluginId);
  const layout = readWasmLayout(bytes, opts.pluginId);
  checkImports(layout, opts.pluginId);
  const capped = capModule(bytes, opts.maxPages, limits.tableElements, opts.pluginId);
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

function checkHeaderOrThrow(bytes: Uint8Array, pluginId: string): void {
  try {
    checkHeader(bytes);
  } catch (err) {
    throw parseError(pluginId, err);
  }
}
