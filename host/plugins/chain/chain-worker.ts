// Entry point of the chain thread: ONE worker_threads Worker that runs every
// audio guest of the capture chain, so a frame costs one thread hop for the
// whole chain instead of one per guest (DESIGN.md, "Actor pattern").
//
// Each guest is instantiated with Extism 2.0.0-rc13 in foreground mode, with
// the same sandbox as host/plugins/sandbox-worker.ts: no WASI, no allowed
// paths or hosts, http_request denied, capability-checked host functions
// (GuestHostApi), a Wasm-level memory cap (the owner compiled the module with
// wasm-limits.ts prepareModule), an empty process.env and a capped JS heap.
//
// Then it serves frames from the SharedArrayBuffer (chain-protocol.ts).
// Per guest and frame it measures the call; a call longer than the guest's
// callMs is an overrun and its output is discarded (the next guest gets this
// guest's input), a trap or a wrong-length answer takes the guest out of the
// chain for the life of this thread. The owner applies the policies.
//
// Extism's reset(): in rc13's foreground mode it only truncates the SDK's
// list of memory blocks and its call stack (CallContext[RESET]) — the same
// thing every call() already does first. It does not touch the Wasm instance:
// the guest's globals, its linear memory and its Extism vars survive. So a
// stateful guest (an echo canceller's adaptive filter) keeps its state for
// the whole life of the thread; the periodic reset only guards against the
// 16,383-call block-index overflow of other SDK modes should rc13 change
// (test/plugins/audio-chain-soak.test.ts checks the state survives).
import { workerData } from 'node:worker_threads';
import type { Plugin } from '@extism/extism';
import { instantiateGuest } from '../extism-guest.js';
import { AEC_INPUT_BYTES, AUDIO_FRAME_BYTES } from '../hooks.js';
import { GuestHostApi } from '../host-api.js';
import type { WasmMemory } from '../platform.js';
import {
  chainViews,
  clockUs,
  Ctrl,
  FRAME_SAMPLES,
  FRAME_US_SLOT,
  G,
  GUEST_WORDS,
  STATS_PER_GUEST,
  GuestStatus,
  LoadState,
  MESSAGE_BYTES,
  Phase,
  type ChainGuestInit,
  type ChainInit,
  type EffectsMessage,
} from './chain-protocol.js';

const init = workerData as ChainInit;
const v = chainViews(init.sab);
const { ctrl, guests: words, times } = v;
const encoder = new TextEncoder();
const MIB = 1024 * 1024;

interface Guest {
  plugin: Plugin | null;
  api: GuestHostApi;
  hook: string;
  aec: boolean;
  callUs: number;
  memory: WasmMemory | null;
  /** Out of the chain for the life of this thread (trapped, bad output, failed to load). */
  dead: boolean;
  calls: number;
  /** The zero-copy frame path, when the guest exports it (sdk: hearth_frame_buffer / hearth_frame_process). */
  fast: { process: () => number; ptr: number; view: Float32Array | null } | null;
  /** Stats the guest publishes after its frame (sdk statSet), 0 when its manifest names none. */
  statsCount: number;
}

// Per-frame buffers, allocated once. The inputs are plain ArrayBuffers passed
// whole: Extism then wraps them as the input block instead of copying them.
const current = new Float32Array(FRAME_SAMPLES);
const rawIn = new ArrayBuffer(AUDIO_FRAME_BYTES);
const rawInBytes = new Uint8Array(rawIn);
const rawInF32 = new Float32Array(rawIn);
const aecIn = new ArrayBuffer(AEC_INPUT_BYTES);
const aecInBytes = new Uint8Array(aecIn);
const aecInF32 = new Float32Array(aecIn);

function writeMessage(index: number, text: string): void {
  const area = v.messages.subarray(index * MESSAGE_BYTES, (index + 1) * MESSAGE_BYTES);
  // encodeInto never splits a character, so a cut message is still valid UTF-8.
  const { written } = encoder.encodeInto(text.length > MESSAGE_BYTES ? text.slice(0, MESSAGE_BYTES) : text, area);
  words[index * GUEST_WORDS + G.MessageLen] = written;
}

async function instantiate(g: ChainGuestInit, index: number): Promise<Guest> {
  // Named in Current while it instantiates: a start function that loops is
  // attributed to this guest when the owner's load timeout fires.
  Atomics.store(ctrl, Ctrl.GuestStartUs, clockUs());
  Atomics.store(ctrl, Ctrl.Current, index);
  const api = new GuestHostApi({
    pluginId: g.pluginId,
    grants: new Set(g.grants),
    config: g.config,
    kv: g.kv,
    state: null,
    storageBytes: g.storageBytes,
    hostAllocBytes: g.memoryMiB * MIB,
  });
  const guest: Guest = { plugin: null, api, hook: g.hook, aec: g.hook === 'on_aec_raw', callUs: g.callUs, memory: null, dead: true, calls: 0, fast: null, statsCount: Math.min(g.statsCount, STATS_PER_GUEST) };
  try {
    const inst = await instantiateGuest(g.module, api, { grants: g.grants, config: g.config, memoryMiB: g.memoryMiB });
    guest.plugin = inst.plugin;
    const exports = inst.exports;
    guest.memory = inst.memory;
    const bufferFn = exports.hearth_frame_buffer;
    const processFn = exports.hearth_frame_process;
    if (typeof bufferFn === 'function' && typeof processFn === 'function' && guest.memory) {
      const ptr = Number((bufferFn as () => number)());
      // The area must lie inside memory and be f32-aligned, or the guest keeps the Extism path.
      // A guest that names stats must also hold the stats area after the frames.
      const areaBytes = (2 * FRAME_SAMPLES + (guest.statsCount ? STATS_PER_GUEST : 0)) * 4;
      if (Number.isInteger(ptr) && ptr > 0 && ptr % 4 === 0 && ptr + areaBytes <= guest.memory.buffer.byteLength) {
        guest.fast = { process: processFn as () => number, ptr, view: null };
      }
    }
    guest.dead = false;
    words[index * GUEST_WORDS + G.Load] = LoadState.Ok;
  } catch (err) {
    writeMessage(index, `failed to instantiate: ${(err as Error).message}`);
    words[index * GUEST_WORDS + G.Load] = LoadState.Failed;
  }
  words[index * GUEST_WORDS + G.MemoryKiB] = guest.memory ? guest.memory.buffer.byteLength >> 10 : 0;
  const effects = api.takeEffects();
  if (effects.length) post({ guest: index, effects });
  return guest;
}

function post(msg: EffectsMessage): void {
  init.port.postMessage(msg);
  Atomics.add(ctrl, Ctrl.EffectsPosted, 1);
}

/**
 * The zero-copy path: the frame (and the reference, for the AEC slot) is
 * written into the guest's FRAME_BUFFER, hearth_frame_process runs, and the
 * result is read back from the same place. No Extism call: no host calls, no
 * blocks, no garbage.
 */
function runFast(guest: Guest, fast: NonNullable<Guest['fast']>, index: number): void {
  const w = index * GUEST_WORDS;
  const buffer = guest.memory!.buffer;
  // A grown memory has a new ArrayBuffer: remake the view then, only.
  if (!fast.view || fast.view.buffer !== buffer) fast.view = new Float32Array(buffer, fast.ptr, 2 * FRAME_SAMPLES + (guest.statsCount ? STATS_PER_GUEST : 0));
  const view = fast.view;
  view.set(current, 0);
  if (guest.aec) view.set(v.reference, FRAME_SAMPLES);
  let status: GuestStatus = GuestStatus.Ok;
  const started = performance.now();
  try {
    const rc = fast.process();
    if (rc !== 0) {
      status = GuestStatus.GuestError;
      writeMessage(index, `hearth_frame_process returned ${rc}`);
    }
  } catch (err) {
    status = GuestStatus.Trap;
    writeMessage(index, (err as Error).message ?? String(err));
  }
  const us = (performance.now() - started) * 1000;
  if (status === GuestStatus.Ok) {
    if (us > guest.callUs) status = GuestStatus.Overrun;
    else {
      const out = fast.view.buffer === guest.memory!.buffer ? fast.view : new Float32Array(guest.memory!.buffer, fast.ptr, FRAME_SAMPLES);
      current.set(out.subarray(0, FRAME_SAMPLES));
    }
    if (guest.statsCount) {
      const area = fast.view.buffer === guest.memory!.buffer ? fast.view : new Float32Array(guest.memory!.buffer, fast.ptr, 2 * FRAME_SAMPLES + STATS_PER_GUEST);
      const base = index * STATS_PER_GUEST;
      for (let i = 0; i < guest.statsCount; i++) v.stats[base + i] = area[2 * FRAME_SAMPLES + i]!;
    }
  }
  if (status >= GuestStatus.Trap) guest.dead = true;
  guest.calls++;
  times[index] = us;
  words[w + G.Calls] = guest.calls;
  words[w + G.MemoryKiB] = buffer.byteLength >> 10;
  words[w + G.Status] = status;
}

/** Runs one guest on `current` (in place when it answers in time). */
async function runGuest(guest: Guest, index: number): Promise<void> {
  const w = index * GUEST_WORDS;
  if (guest.dead || Atomics.load(words, w + G.Enabled) === 0) {
    words[w + G.Status] = GuestStatus.Skipped;
    times[index] = 0;
    return;
  }
  Atomics.store(ctrl, Ctrl.GuestStartUs, clockUs());
  Atomics.store(ctrl, Ctrl.Current, index);
  // The first call of a zero-copy guest goes through its Extism hook, which reads its config.
  if (guest.fast && guest.calls > 0) return runFast(guest, guest.fast, index);
  let input: Uint8Array;
  if (guest.aec) {
    aecInF32.set(current, 0);
    aecInF32.set(v.reference, FRAME_SAMPLES);
    input = aecInBytes;
  } else {
    rawInF32.set(current, 0);
    input = rawInBytes;
  }
  guest.api.beginCall();
  let status: GuestStatus = GuestStatus.Ok;
  // PluginOutput is a DataView over the output block (its .d.ts hides that).
  let out: DataView | null = null;
  const started = performance.now();
  try {
    out = (await guest.plugin!.call(guest.hook, input)) as unknown as DataView | null;
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    status = message.startsWith('Plugin-originated error: ') ? GuestStatus.GuestError : GuestStatus.Trap;
    const reason = guest.api.abortMessage;
    writeMessage(index, reason ? `${reason} [${message}]` : message);
  }
  const us = (performance.now() - started) * 1000;
  if (status === GuestStatus.Ok) {
    if (!out || out.byteLength !== AUDIO_FRAME_BYTES) {
      status = GuestStatus.BadOutput;
      writeMessage(index, `${guest.hook} answered ${out ? out.byteLength : 0} bytes, expected ${AUDIO_FRAME_BYTES} (960 f32)`);
    } else if (us > guest.callUs) {
      status = GuestStatus.Overrun; // too late to use: the next guest gets this one's input
    } else {
      for (let i = 0; i < FRAME_SAMPLES; i++) current[i] = out.getFloat32(i * 4, true);
    }
  }
  if (status >= GuestStatus.Trap) guest.dead = true;
  guest.calls++;
  // See the header: only Extism's blocks are dropped, the guest's state stays.
  if (guest.calls % init.resetEvery === 0) await guest.plugin!.reset();
  times[index] = us;
  words[w + G.Calls] = guest.calls;
  words[w + G.MemoryKiB] = guest.memory ? guest.memory.buffer.byteLength >> 10 : 0;
  words[w + G.Status] = status;
  const effects = guest.api.takeEffects();
  if (effects.length) post({ guest: index, effects });
}

/** Spin this long after answering a frame, for a caller that sends the next one at once (tests, benches, plugin test). */
const SPIN_AFTER_MS = 0.3;
/** Around the expected arrival of the next frame, spin from this much before it to SPIN_LATE_MS after it. */
const SPIN_EARLY_MS = 0.4;
const SPIN_LATE_MS = 1.2;

/**
 * Waits for the next frame. Waking a thread from Atomics.wait on an idle
 * (virtual) CPU was measured here at 60-150 µs, more than the chain's own
 * work: so the thread sleeps until shortly before the next frame is due (the
 * audio thread's clock is exact) and spins across its expected arrival; only
 * a frame that does not come then is waited for with a plain sleep. The
 * cost is about 1.5 ms of spinning per 20 ms frame.
 */
function awaitFrame(seen: number, lastArrival: number, period: number): void {
  const changed = (): boolean => Atomics.load(ctrl, Ctrl.ReqSeq) !== seen;
  const spin = (until: number): boolean => {
    while (performance.now() < until) if (changed()) return true;
    return false;
  };
  if (spin(performance.now() + SPIN_AFTER_MS)) return;
  if (period > 0) {
    const due = lastArrival + period;
    const sleep = due - SPIN_EARLY_MS - performance.now();
    if (sleep > 0) Atomics.wait(ctrl, Ctrl.ReqSeq, seen, sleep);
    if (changed() || spin(due + SPIN_LATE_MS)) return;
  }
  Atomics.wait(ctrl, Ctrl.ReqSeq, seen);
}

async function serve(chain: Guest[]): Promise<never> {
  // Read the sequence number before announcing readiness: the owner may send
  // its first frame as soon as it sees Ready.
  let seen = Atomics.load(ctrl, Ctrl.ReqSeq);
  Atomics.store(ctrl, Ctrl.Current, -1);
  Atomics.store(ctrl, Ctrl.Phase, Phase.Ready);
  Atomics.notify(ctrl, Ctrl.Phase);
  let lastArrival = 0;
  let period = 0;
  for (;;) {
    awaitFrame(seen, lastArrival, period);
    const seq = Atomics.load(ctrl, Ctrl.ReqSeq);
    if (seq === seen) continue;
    seen = seq;
    const started = performance.now();
    if (lastArrival > 0) {
      const gap = started - lastArrival;
      // Frames come every 20 ms from the audio thread; a moving average follows the actual pace.
      period = gap > 0.5 && gap < 100 ? (period ? 0.9 * period + 0.1 * gap : gap) : period;
    }
    lastArrival = started;
    current.set(v.mic);
    for (let i = 0; i < chain.length; i++) await runGuest(chain[i]!, i);
    Atomics.store(ctrl, Ctrl.Current, -1);
    v.out.set(current);
    times[FRAME_US_SLOT] = (performance.now() - started) * 1000;
    Atomics.add(ctrl, Ctrl.Hops, 1);
    Atomics.store(ctrl, Ctrl.RespSeq, seq);
    Atomics.notify(ctrl, Ctrl.RespSeq);
  }
}

const chain: Guest[] = [];
for (let i = 0; i < init.guests.length; i++) chain.push(await instantiate(init.guests[i]!, i));
await serve(chain);
