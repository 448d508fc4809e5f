// Pieces of the hostile tests that run a real server: installing a guest
// (a built test guest or raw wasm bytes) into its data directory the way the
// CLI does, hand-made modules, and the CLI's stdout.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installPlugin, readPluginSource } from '../../host/server/plugins/installed.js';
import { sha256Hex } from '../../host/plugins/manifest.js';
import { tempDir, type TestServer } from '../helpers/server.js';
import { testGuestWasm } from './helpers.js';
import { encodeU32 } from '../../host/plugins/wasm-structure.js';

export interface GuestSpec {
  id: string;
  wasm: Uint8Array;
  hooks: string[];
  capabilities?: string[];
  grants?: string[];
  commands?: string[];
  limits?: Record<string, unknown>;
  name?: string;
  /** wasm.file in the manifest (default "<id>.wasm"). */
  file?: string;
  version?: string;
}

/** Writes manifest + wasm to a fresh directory; returns the manifest's path. */
export function writeGuest(g: GuestSpec, dir = tempDir('hearth-guest-')): string {
  const file = g.file ?? `${g.id}.wasm`;
  mkdirSync(join(dir, file, '..'), { recursive: true });
  writeFileSync(join(dir, file), g.wasm);
  const manifest = {
    manifestVersion: 1,
    id: g.id,
    name: g.name ?? `hostile ${g.id}`,
    version: g.version ?? '0.0.1',
    wasm: { file, sha256: sha256Hex(g.wasm) },
    hooks: g.hooks,
    capabilities: g.capabilities ?? [],
    commands: g.commands ?? [],
    limits: { memoryMiB: 4, callMs: 50, killMs: 1000, overrunLimit: 10, storageKiB: 16, ...g.limits },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return join(dir, 'manifest.json');
}

/** Installs like `hearth plugin install --grant ...` and lets the server sync once. */
export async function install(t: TestServer, g: GuestSpec): Promise<void> {
  await installPlugin(t.dataDir, t.server.store, await readPluginSource(writeGuest(g)), g.grants ?? g.capabilities ?? []);
  await t.server.plugins!.sync();
}

export const guest = (name: string, spec: Omit<GuestSpec, 'id' | 'wasm'> & { id?: string }): GuestSpec => ({ id: spec.id ?? name, wasm: testGuestWasm(name), ...spec });

// ---- hand-made modules (there is no wat2wasm here) ---------------------------

// Unsigned LEB128, the same encoder the structure check's own tests rely on.
const leb = encodeU32;
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const name = (s: string): number[] => [...leb(s.length), ...Buffer.from(s)];

/**
 * A module exporting `on_command` (returns 0) plus `extra` sections, in
 * section order: type, function, table (4), memory (5), export, code, data (11).
 */
export function handMade(extra: { table?: number[]; memory?: number[]; data?: number[] } = {}): Uint8Array {
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 0, 1, 0x7f]), // type 0: () -> i32
    ...section(3, [1, 0]), // function 0 has type 0
    ...(extra.table ? section(4, extra.table) : []),
    ...(extra.memory ? section(5, extra.memory) : []),
    ...section(7, [1, ...name('on_command'), 0x00, 0]), // export func 0
    ...section(10, [1, 4, 0, 0x41, 0, 0x0b]), // body: i32.const 0; end
    ...(extra.data ? section(11, extra.data) : []),
  ]);
}

/** `(table 10000000 funcref)`: V8 aborts the whole process instantiating it (heap limit in WasmIndirectFunctionTable::New). */
export const tableBomb = (): Uint8Array => handMade({ table: [1, 0x70, 0x00, ...leb(10_000_000)] });

/** One page of memory and an active data segment at 65,530 of 16 bytes: out of bounds, it traps at every instantiation. */
export const oobData = (): Uint8Array =>
  handMade({ memory: [1, 0x00, 1], data: [1, 0x00, 0x41, ...signedLeb(65_530), 0x0b, 16, ...new Array<number>(16).fill(7)] });

function signedLeb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** What `fn` writes to stdout (the CLI's out()), as text. */
export async function stdoutOf(fn: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string | Uint8Array) => {
    chunks.push(typeof s === 'string' ? s : Buffer.from(s).toString());
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}
