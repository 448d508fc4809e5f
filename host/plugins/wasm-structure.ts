// Structure checks of a guest's wasm, before anything compiles or
// instantiates it.
//
// Why: a module's *declarations* can kill the host before any guest code
// runs. A 259-byte module declaring `(table 10000000 funcref)` makes V8 hit
// its heap limit in WasmIndirectFunctionTable::New while instantiating, and
// that is a fatal, process-wide error: a worker's `resourceLimits` do not
// catch it (measured on Node 20: the whole process aborts with the sandbox
// thread at 64 MiB). So every size the engine allocates up front is counted
// here, against the manifest's `limits.module` (safe defaults, see
// manifest.ts), and a module over any of them is refused with a clear error.
// Tables also get a maximum (capTables in wasm-limits.ts), so that
// `table.grow` cannot reach the same allocation later.
//
// The parser reads only what it needs: section headers, the counts of each
// vector, table limits, element and data segment headers (with their
// constant offset expressions, to refuse an active data segment that lies
// outside the initial memory: it would trap at every instantiation).
import { PluginError } from './errors.js';

export interface Reader {
  bytes: Uint8Array;
  pos: number;
}

/** Unsigned LEB128 of at most `bits` bits (32 or 64), as a JS number. */
export function readUnsigned(r: Reader, bits: 32 | 64): number {
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

export const readU32 = (r: Reader): number => readUnsigned(r, 32);

/** Signed LEB128 (for i32.const / i64.const offsets); large values lose precision, which only matters past 2^53. */
function readSigned(r: Reader): number {
  let result = 0;
  let shift = 0;
  let b: number;
  do {
    if (r.pos >= r.bytes.length) throw new Error('truncated LEB128');
    b = r.bytes[r.pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (shift > 70) throw new Error('LEB128 too long');
  } while (b & 0x80);
  if (b & 0x40) result -= 2 ** shift;
  return result;
}

export function encodeU32(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** What `limits.module` bounds (see manifest.ts for the defaults and the documentation). */
export interface ModuleLimits {
  fileKiB: number;
  functions: number;
  tableElements: number;
  globals: number;
  elementSegments: number;
  elements: number;
  dataSegments: number;
  dataKiB: number;
  imports: number;
  exports: number;
  types: number;
}

export const DEFAULT_MODULE_LIMITS: ModuleLimits = {
  fileKiB: 16 * 1024,
  functions: 50_000,
  tableElements: 100_000,
  globals: 10_000,
  elementSegments: 10_000,
  elements: 100_000,
  dataSegments: 10_000,
  dataKiB: 16 * 1024,
  imports: 1_000,
  exports: 10_000,
  types: 10_000,
};

export interface TableInfo {
  initial: number;
  maximum: number | null;
}

export interface ModuleStructure {
  bytes: number;
  types: number;
  imports: number;
  functions: number;
  tables: TableInfo[];
  globals: number;
  exports: number;
  elementSegments: number;
  elements: number;
  dataSegments: number;
  dataBytes: number;
  /** Initial size of memory 0 in pages (null: no memory defined). */
  memoryPages: number | null;
  /** Active data segments of memory 0 with a constant offset: [offset, length]. */
  activeData: [number, number][];
}

/** Skips a constant expression (offsets and initialisers); returns the value of a lone i32/i64.const, else null. */
function constExpr(r: Reader): number | null {
  let value: number | null = null;
  let ops = 0;
  for (;;) {
    if (r.pos >= r.bytes.length) throw new Error('truncated constant expression');
    const op = r.bytes[r.pos++]!;
    ops++;
    switch (op) {
      case 0x0b:
        return ops === 2 ? value : null;
      case 0x41: // i32.const
      case 0x42: // i64.const
        value = readSigned(r);
        break;
      case 0x43:
        r.pos += 4;
        break;
      case 0x44:
        r.pos += 8;
        break;
      case 0x23: // global.get
      case 0xd2: // ref.func
        readU32(r);
        break;
      case 0xd0: // ref.null heaptype
        r.pos++;
        break;
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: // extended-const arithmetic
        break;
      default:
        throw new Error(`unsupported instruction 0x${op.toString(16)} in a constant expression`);
    }
    if (ops > 64) throw new Error('constant expression too long');
  }
}

function readLimits(r: Reader, what: string): TableInfo {
  const flags = r.bytes[r.pos++];
  if (flags !== 0 && flags !== 1) throw new Error(`unsupported ${what} limits flags 0x${(flags ?? 0).toString(16)}`);
  const initial = readU32(r);
  const maximum = flags === 1 ? readU32(r) : null;
  return { initial, maximum };
}

function readTableType(r: Reader): TableInfo {
  const ref = r.bytes[r.pos++];
  if (ref === 0x40) throw new Error('tables with an initialiser expression are not supported');
  if (ref !== 0x70 && ref !== 0x6f) throw new Error(`unsupported table element type 0x${(ref ?? 0).toString(16)}`);
  return readLimits(r, 'table');
}

function readElementSegments(r: Reader, s: ModuleStructure): void {
  const count = readU32(r);
  s.elementSegments = count;
  for (let i = 0; i < count; i++) {
    const flags = readU32(r);
    if (flags > 7) throw new Error(`unknown element segment flags ${flags}`);
    if (flags & 2 && !(flags & 1)) readU32(r); // explicit table index (flags 2, 6)
    if (!(flags & 1)) constExpr(r); // active: the offset
    const exprs = Boolean(flags & 4);
    if (flags & 3) r.pos++; // elemkind (0x00) or reftype byte, for flags 1, 2, 3, 5, 6, 7
    const n = readU32(r);
    s.elements += n;
    for (let j = 0; j < n; j++) {
      if (exprs) constExpr(r);
      else readU32(r);
    }
  }
}

function readDataSegments(r: Reader, s: ModuleStructure): void {
  const count = readU32(r);
  s.dataSegments = count;
  for (let i = 0; i < count; i++) {
    const flags = readU32(r);
    if (flags > 2) throw new Error(`unknown data segment flags ${flags}`);
    const memory = flags === 2 ? readU32(r) : 0;
    const offset = flags === 1 ? null : constExpr(r);
    const len = readU32(r);
    if (r.pos + len > r.bytes.length) throw new Error('data segment runs past the end of the module');
    r.pos += len;
    s.dataBytes += len;
    if (offset !== null && memory === 0) s.activeData.push([offset, len]);
  }
}

/** Reads the sizes the engine allocates up front. Throws on malformed input. */
export function readStructure(bytes: Uint8Array): ModuleStructure {
  const s: ModuleStructure = {
    bytes: bytes.length,
    types: 0,
    imports: 0,
    functions: 0,
    tables: [],
    globals: 0,
    exports: 0,
    elementSegments: 0,
    elements: 0,
    dataSegments: 0,
    dataBytes: 0,
    memoryPages: null,
    activeData: [],
  };
  const r: Reader = { bytes, pos: 8 };
  while (r.pos < bytes.length) {
    const id = bytes[r.pos++]!;
    const size = readU32(r);
    const end = r.pos + size;
    if (end > bytes.length) throw new Error('section runs past the end of the module');
    const sub: Reader = { bytes: bytes.subarray(0, end), pos: r.pos };
    switch (id) {
      case 1:
        s.types = readU32(sub);
        break;
      case 2:
        s.imports = readU32(sub);
        break;
      case 3:
        s.functions = readU32(sub);
        break;
      case 4: {
        const n = readU32(sub);
        for (let i = 0; i < n; i++) s.tables.push(readTableType(sub));
        break;
      }
      case 5: {
        const n = readU32(sub);
        if (n > 0) {
          const flags = sub.bytes[sub.pos++]!;
          s.memoryPages = readUnsigned(sub, 64);
          void flags;
        }
        break;
      }
      case 6:
        s.globals = readU32(sub);
        break;
      case 7:
        s.exports = readU32(sub);
        break;
      case 9:
        readElementSegments(sub, s);
        break;
      case 11:
        readDataSegments(sub, s);
        break;
      default:
        if (id > 13) throw new Error(`unknown section id ${id}`);
    }
    r.pos = end;
  }
  return s;
}

const over = (pluginId: string, what: string, n: number, limit: number, key: keyof ModuleLimits): PluginError =>
  new PluginError(
    'MODULE_LIMIT',
    `plugin ${pluginId}: its wasm declares ${n} ${what}, more than its limit of ${limit} (limits.module.${key}); refusing to compile it`,
    pluginId,
  );

/**
 * Refuses a module over any structure limit, and one whose active data
 * segment lies outside its initial memory (it would trap at every start).
 */
export function checkStructure(bytes: Uint8Array, limits: ModuleLimits, pluginId: string): ModuleStructure {
  if (bytes.length > limits.fileKiB * 1024) {
    throw new PluginError('MODULE_LIMIT', `plugin ${pluginId}: its wasm is ${Math.ceil(bytes.length / 1024)} KiB, more than its limit of ${limits.fileKiB} KiB (limits.module.fileKiB)`, pluginId);
  }
  let s: ModuleStructure;
  try {
    s = readStructure(bytes);
  } catch (err) {
    throw new PluginError('WASM_INVALID', `plugin ${pluginId}: not a valid wasm module: ${(err as Error).message}`, pluginId);
  }
  const tableInitial = s.tables.reduce((n, t) => n + t.initial, 0);
  const checks: [string, number, keyof ModuleLimits][] = [
    ['types', s.types, 'types'],
    ['imports', s.imports, 'imports'],
    ['functions', s.functions, 'functions'],
    ['table elements (initial size of its tables)', tableInitial, 'tableElements'],
    ['globals', s.globals, 'globals'],
    ['exports', s.exports, 'exports'],
    ['element segments', s.elementSegments, 'elementSegments'],
    ['table elements in element segments', s.elements, 'elements'],
    ['data segments', s.dataSegments, 'dataSegments'],
  ];
  for (const [what, n, key] of checks) if (n > limits[key]) throw over(pluginId, what, n, limits[key], key);
  if (s.dataBytes > limits.dataKiB * 1024) throw over(pluginId, 'bytes of data segments', s.dataBytes, limits.dataKiB * 1024, 'dataKiB');
  const memoryBytes = (s.memoryPages ?? 0) * 65536;
  for (const [offset, len] of s.activeData) {
    if (offset < 0 || offset + len > memoryBytes) {
      throw new PluginError(
        'WASM_INVALID',
        `plugin ${pluginId}: a data segment of ${len} bytes at offset ${offset} lies outside its initial memory (${memoryBytes} bytes); it would trap at every start`,
        pluginId,
      );
    }
  }
  return s;
}
