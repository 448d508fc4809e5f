// Plugin manifests: one JSON file per plugin (manifests/<id>.json when shipped,
// <data>/plugins/<id>.json when installed). The zod schema below is the source
// of truth; sdk/manifest.schema.json is generated from it (scripts/emit-manifest-schema.mjs)
// and a test keeps the two in sync.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { z } from 'zod';
import { CAPABILITIES, HOOK_CAPABILITY, HOOKS } from './capabilities.js';
import { PluginError } from './errors.js';
import { AUDIO_SLOTS, SLOT_HOOK, type AudioSlot } from './hooks.js';
import { DEFAULT_MODULE_LIMITS } from './wasm-structure.js';

/** Wasm pages are 64 KiB; 1 MiB = 16 pages. */
export const PAGES_PER_MIB = 16;

const count = (def: number, max: number, what: string) => z.number().int().min(0).max(max).default(def).describe(what);

/** limits.module: see wasm-structure.ts for why each is there. */
export const ModuleLimitsSchema = z
  .object({
    fileKiB: z.number().int().min(1).max(64 * 1024).default(DEFAULT_MODULE_LIMITS.fileKiB).describe('Size of the wasm file (KiB).'),
    functions: count(DEFAULT_MODULE_LIMITS.functions, 200_000, 'Functions defined by the module.'),
    tableElements: count(DEFAULT_MODULE_LIMITS.tableElements, 1_000_000, 'Elements of all tables together, initial size and growth (each table gets a maximum).'),
    globals: count(DEFAULT_MODULE_LIMITS.globals, 100_000, 'Globals defined by the module.'),
    elementSegments: count(DEFAULT_MODULE_LIMITS.elementSegments, 100_000, 'Element segments.'),
    elements: count(DEFAULT_MODULE_LIMITS.elements, 1_000_000, 'Entries of all element segments together.'),
    dataSegments: count(DEFAULT_MODULE_LIMITS.dataSegments, 100_000, 'Data segments.'),
    dataKiB: z.number().int().min(0).max(64 * 1024).default(DEFAULT_MODULE_LIMITS.dataKiB).describe('Bytes of all data segments together (KiB).'),
    imports: count(DEFAULT_MODULE_LIMITS.imports, 10_000, 'Imports.'),
    exports: count(DEFAULT_MODULE_LIMITS.exports, 100_000, 'Exports.'),
    types: count(DEFAULT_MODULE_LIMITS.types, 100_000, 'Function types.'),
  })
  .strict();

export const LimitsSchema = z
  .object({
    memoryMiB: z
      .number()
      .int()
      .min(1)
      .max(512)
      .default(16)
      .describe(
        "Cap on the guest's own Wasm linear memory (MiB), enforced by giving the module's memory a maximum before it is compiled. The same amount again bounds the host-side Extism blocks (input, output, allocations) of one call.",
      ),
    callMs: z
      .number()
      .positive()
      .max(60_000)
      .default(20)
      .describe(
        'Time budget of one call (ms). A call still running at this point is an overrun: the caller moves on without its answer (an audio frame passes through unprocessed).',
      ),
    killMs: z
      .number()
      .positive()
      .max(600_000)
      .default(1000)
      .describe('A call still running after this long (ms) is stopped by terminating its thread; the plugin is disabled.'),
    overrunLimit: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(10)
      .describe('The plugin is disabled when this many of its last 100 calls overran callMs.'),
    module: ModuleLimitsSchema.default(ModuleLimitsSchema.parse({})).describe(
      "Bounds on the wasm's structure, checked before it is compiled (a module's declarations alone can exhaust the host: a 259-byte module declaring a 10,000,000-entry table aborts V8). Tables also get a maximum of tableElements in all.",
    ),
    storageKiB: z
      .number()
      .int()
      .min(0)
      .max(65_536)
      .default(256)
      .describe('Quota of the key/value storage (keys + values, KiB).'),
  })
  .strict()
  .refine((l) => l.killMs >= l.callMs, { message: 'limits.killMs must be >= limits.callMs', path: ['killMs'] });

export type PluginLimits = z.infer<typeof LimitsSchema>;

const JsonObject = z.record(z.string(), z.unknown());

export const ManifestSchema = z
  .object({
    $schema: z.string().optional().describe('Path or URL of this JSON Schema (editors use it).'),
    manifestVersion: z.literal(1).describe('Version of this manifest format.'),
    id: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,39}$/, 'id must be 2-40 characters of a-z, 0-9 and "-", starting with a letter')
      .describe('Unique plugin id; also the base name of its files.'),
    name: z.string().min(1).max(80),
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, 'version must be semver (1.2.3)')
      .describe('Semantic version of the plugin.'),
    description: z.string().max(1000).default(''),
    author: z.string().max(200).default(''),
    hostApi: z.literal(1).default(1).describe('Host API version the plugin was written against.'),
    wasm: z
      .object({
        file: z
          .string()
          .min(1)
          .refine((f) => !isAbsolute(f) && !normalize(f).startsWith('..'), 'wasm.file must be a relative path inside the plugin directory')
          .describe('Wasm file, relative to the manifest.'),
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/, 'wasm.sha256 must be 64 lowercase hex digits')
          .describe('SHA-256 of the wasm file; a mismatch refuses to load.'),
      })
      .strict(),
    hooks: z.array(z.enum(HOOKS)).min(1).describe('Hook exports the plugin implements; each must be exported by the wasm.'),
    commands: z
      .array(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/))
      .default([])
      .describe('Chat commands (without the leading "/") routed to on_command.'),
    capabilities: z.array(z.enum(CAPABILITIES)).default([]).describe('Capabilities the plugin asks for; the admin grants some or all of them.'),
    config: z
      .object({
        schema: JsonObject.default({ type: 'object' }).describe('JSON Schema (type "object") of the plugin config.'),
        defaults: JsonObject.default({}).describe('Default config; must satisfy the schema.'),
      })
      .strict()
      .default({ schema: { type: 'object' }, defaults: {} }),
    limits: LimitsSchema.default(LimitsSchema.parse({})),
    audio: z
      .object({
        slot: z
          .enum(AUDIO_SLOTS)
          .default('effect')
          .describe(
            'Which slot of the capture chain the plugin fills: "aec" (echo cancellation, hook on_aec_raw: the mic frame plus the far-end reference), "ns" (noise suppression, on_audio_raw) or "effect" (on_audio_raw). The chain runs aec, then ns, then the effects.',
          ),
        stats: z
          .array(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,31}$/))
          .max(16)
          .default([])
          .describe('Names of the f32 stats a zero-copy guest publishes with statSet(i, v), in index order (at most 16); the client state carries their newest values.'),
      })
      .strict()
      .optional()
      .describe('For audio plugins: their place in the capture chain. Without it, a plugin with on_aec_raw (and no on_audio_raw) is an echo canceller and any other audio plugin an effect.'),
  })
  .strict()
  .superRefine((m, ctx) => {
    for (const hook of m.hooks) {
      const cap = HOOK_CAPABILITY[hook];
      if (cap && !m.capabilities.includes(cap)) {
        ctx.addIssue({ code: 'custom', path: ['capabilities'], message: `hook ${hook} needs capability "${cap}"` });
      }
    }
    if (m.commands.length && !m.hooks.includes('on_command')) {
      ctx.addIssue({ code: 'custom', path: ['commands'], message: 'commands need the on_command hook' });
    }
    if (new Set(m.hooks).size !== m.hooks.length) ctx.addIssue({ code: 'custom', path: ['hooks'], message: 'hooks must be unique' });
    if (new Set(m.capabilities).size !== m.capabilities.length) {
      ctx.addIssue({ code: 'custom', path: ['capabilities'], message: 'capabilities must be unique' });
    }
    if (m.audio && !m.hooks.includes(SLOT_HOOK[m.audio.slot])) {
      ctx.addIssue({ code: 'custom', path: ['audio', 'slot'], message: `slot "${m.audio.slot}" needs the ${SLOT_HOOK[m.audio.slot]} hook` });
    }
  });

export type PluginManifest = z.infer<typeof ManifestSchema>;
export type PluginManifestInput = z.input<typeof ManifestSchema>;

/**
 * The capture-chain slot a plugin fills: its `audio.slot`, else inferred from
 * its hooks (on_aec_raw alone: "aec"; on_audio_raw: "effect"); null when it
 * has no raw audio hook the chain could call.
 */
export function audioSlotOf(m: Pick<PluginManifest, 'hooks' | 'audio'>): AudioSlot | null {
  if (m.audio) return m.audio.slot;
  if (m.hooks.includes('on_audio_raw')) return 'effect';
  if (m.hooks.includes('on_aec_raw')) return 'aec';
  return null;
}

/** Validates a parsed manifest; throws MANIFEST_INVALID / CONFIG_INVALID with every problem listed. */
export function parseManifest(raw: unknown, source = 'manifest'): PluginManifest {
  const result = ManifestSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new PluginError('MANIFEST_INVALID', `${source} is not a valid plugin manifest: ${problems}`);
  }
  const manifest = result.data;
  resolveConfig(manifest, {}); // the defaults must satisfy the config schema
  return manifest;
}

/**
 * The effective config: manifest defaults overlaid with the admin's values,
 * validated against the manifest's config schema.
 */
export function resolveConfig(manifest: PluginManifest, overrides: Record<string, unknown>): Record<string, unknown> {
  let schema: z.ZodType;
  try {
    schema = z.fromJSONSchema(manifest.config.schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (err) {
    throw new PluginError('CONFIG_INVALID', `plugin ${manifest.id}: config.schema is not a usable JSON Schema: ${(err as Error).message}`, manifest.id);
  }
  const merged = { ...manifest.config.defaults, ...overrides };
  const result = schema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new PluginError('CONFIG_INVALID', `plugin ${manifest.id}: config does not match its schema: ${problems}`, manifest.id);
  }
  if (typeof result.data !== 'object' || result.data === null || Array.isArray(result.data)) {
    throw new PluginError('CONFIG_INVALID', `plugin ${manifest.id}: config must be a JSON object`, manifest.id);
  }
  return result.data as Record<string, unknown>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Throws SHA256_MISMATCH unless the bytes hash to the manifest's wasm.sha256. */
export function verifyWasm(manifest: PluginManifest, wasm: Uint8Array, wasmPath = manifest.wasm.file): void {
  const actual = sha256Hex(wasm);
  if (actual !== manifest.wasm.sha256) {
    throw new PluginError(
      'SHA256_MISMATCH',
      `plugin ${manifest.id}: ${wasmPath} has sha256 ${actual} but the manifest expects ${manifest.wasm.sha256}; refusing to load it`,
      manifest.id,
    );
  }
}

export async function readManifestFile(path: string): Promise<PluginManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new PluginError('MANIFEST_UNREADABLE', `cannot read plugin manifest ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PluginError('MANIFEST_INVALID', `${path} is not JSON: ${(err as Error).message}`);
  }
  return parseManifest(raw, path);
}

export interface PluginFiles {
  manifest: PluginManifest;
  manifestPath: string;
  wasm: Uint8Array;
  wasmPath: string;
}

/**
 * Reads a manifest and its wasm and checks the sha256. The wasm is looked up
 * next to the manifest (the installed layout, <data>/plugins/) unless
 * `wasmPath` says where it is (the shipped layout: guests/<id>/build/).
 */
export async function loadPluginFiles(manifestPath: string, opts: { wasmPath?: string } = {}): Promise<PluginFiles> {
  const manifest = await readManifestFile(manifestPath);
  const wasmPath = opts.wasmPath ?? join(dirname(manifestPath), manifest.wasm.file);
  let wasm: Uint8Array;
  try {
    wasm = new Uint8Array(await readFile(wasmPath));
  } catch (err) {
    throw new PluginError('WASM_UNREADABLE', `plugin ${manifest.id}: cannot read ${wasmPath}: ${(err as Error).message}`, manifest.id);
  }
  verifyWasm(manifest, wasm, wasmPath);
  return { manifest, manifestPath, wasm, wasmPath };
}

/** Paths of a first-party plugin in a source checkout: manifests/<id>.json + guests/<id>/build/<file>. */
export async function shippedPluginFiles(repoRoot: string, id: string): Promise<PluginFiles> {
  const manifestPath = join(repoRoot, 'manifests', `${id}.json`);
  const manifest = await readManifestFile(manifestPath);
  return loadPluginFiles(manifestPath, { wasmPath: join(repoRoot, 'guests', id, 'build', manifest.wasm.file) });
}

/** The JSON Schema of the manifest format (written to sdk/manifest.schema.json). */
export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ManifestSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://hearth.invalid/sdk/manifest.schema.json',
    title: 'Hearth plugin manifest',
    description: 'One JSON manifest per plugin: what it is, what it may do, its wasm and sha256, its config and its limits (docs/PLUGINS.md).',
  };
}
