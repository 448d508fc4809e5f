// Shared pieces of the capture-chain tests: chain guests built from the
// shipped gain plugin and the audio test guests (counter, spin, hang,
// echoref, badframe, passthru), frames, and a 20 ms frame clock.
import type { Capability, HookName } from '../../host/plugins/capabilities.js';
import type { AudioSlot } from '../../host/plugins/hooks.js';
import { parseManifest, sha256Hex, type PluginLimits } from '../../host/plugins/manifest.js';
import type { ChainGuest, ChainReport } from '../../host/plugins/chain/audio-chain.js';
import { guestWasm, shippedManifest, testGuestWasm } from './helpers.js';

export const FRAME = 960;

/** Limits that leave room for a cold thread on a busy machine, unless a test tightens them. */
export const ROOMY: Partial<PluginLimits> = { callMs: 15, killMs: 1000, overrunLimit: 10 };

/** The shipped gain effect under another id (the manifest's sha256 still matches). */
export function gainGuest(id: string, gain: number, limits: Partial<PluginLimits> = ROOMY): ChainGuest {
  const m = shippedManifest('gain');
  const manifest = parseManifest({ ...m, id, limits: { ...m.limits, ...limits } });
  return { manifest, wasm: guestWasm('gain'), grants: m.capabilities, config: { gain }, slot: 'effect' };
}

export interface TestGuestSpec {
  id?: string;
  slot?: AudioSlot;
  limits?: Partial<PluginLimits>;
  config?: Record<string, unknown>;
  capabilities?: Capability[];
  /** Omit the manifest's audio.slot (let the chain infer it). */
  noSlotField?: boolean;
}

/** A chain guest for one of the audio test guests in test/plugins/guests/. */
export function testGuest(name: string, spec: TestGuestSpec = {}): ChainGuest {
  const wasm = testGuestWasm(name);
  const slot = spec.slot ?? (name === 'echoref' ? 'aec' : 'effect');
  const hook: HookName = slot === 'aec' ? 'on_aec_raw' : 'on_audio_raw';
  const capabilities = spec.capabilities ?? ['audio.intercept', 'config.read'];
  const manifest = parseManifest({
    manifestVersion: 1,
    id: spec.id ?? name,
    name: `test guest ${name}`,
    version: '0.0.1',
    wasm: { file: `${name}.wasm`, sha256: sha256Hex(wasm) },
    hooks: [hook],
    capabilities,
    ...(spec.noSlotField ? {} : { audio: { slot } }),
    limits: { memoryMiB: 4, storageKiB: 0, ...ROOMY, ...spec.limits },
  });
  return { manifest, wasm, grants: capabilities, config: spec.config ?? {}, slot };
}

/** A deterministic test frame: a sine whose phase depends on `n`, sample 0 = `first`. */
export function frame(n = 0, first?: number): Float32Array {
  const f = new Float32Array(FRAME);
  for (let i = 0; i < FRAME; i++) f[i] = Math.fround(0.5 * Math.sin((i + 37 * n) / 11));
  if (first !== undefined) f[0] = first;
  return f;
}

export const scaled = (f: Float32Array, ...gains: number[]): Float32Array =>
  Float32Array.from(f, (x) => gains.reduce((acc, g) => Math.fround(acc * g), x));

export function sameSamples(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Collects the chain's reports (pass `reports.push` style as onReport). */
export function reportLog(): { reports: ChainReport[]; onReport: (r: ChainReport) => void; of: (id: string, kind?: ChainReport['kind']) => ChainReport[] } {
  const reports: ChainReport[] = [];
  return {
    reports,
    onReport: (r) => void reports.push(r),
    of: (id, kind) => reports.filter((r) => r.pluginId === id && (kind === undefined || r.kind === kind)),
  };
}

/**
 * Pushes frames as the audio engine does, one every `periodMs` (yielding to
 * the event loop in between, so background restarts can finish), until
 * `until()` holds or `timeoutMs` passes. Returns the number of frames pushed.
 */
export async function clock(step: (n: number) => void, until: () => boolean, timeoutMs: number, periodMs = 20): Promise<number> {
  const end = performance.now() + timeoutMs;
  let n = 0;
  while (!until()) {
    if (performance.now() > end) throw new Error(`condition not reached within ${timeoutMs} ms (${n} frames)`);
    step(n++);
    await sleep(periodMs);
  }
  return n;
}
