// Entry point of a plugin's sandbox thread (one worker_threads Worker per
// plugin). It instantiates the guest with Extism in *foreground* mode (the
// fast path: a call is a plain synchronous Wasm call on this thread) and then
// serves calls from the SharedArrayBuffer channel described in protocol.ts.
//
// Because the guest runs on its own thread, the owner can give up on a slow
// call (bypass) without stopping it, and can stop a runaway guest by
// terminating this thread; nothing the guest does can block the owner.
//
// Sandbox: no WASI (useWasi false), no allowed paths, no allowed hosts,
// http_request answered with NETWORK_DENIED, an empty process.env, a capped JS
// heap (resourceLimits) and a capped Wasm memory (see wasm-limits.ts).
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Plugin } from '@extism/extism';
import { instantiateGuest } from './extism-guest.js';
import { GuestHostApi } from './host-api.js';
import { warmRequestSchemas } from './host-requests.js';
import type { WasmMemory } from './platform.js';
import { Command, Ctrl, CTRL_WORDS, DATA_OFFSET, Status, type PortMessage, type SandboxInit, type StartupMessage } from './protocol.js';

const init = workerData as SandboxInit & { port: MessagePort };
const ctrl = new Int32Array(init.sab, 0, CTRL_WORDS);
const data = new Uint8Array(init.sab, DATA_OFFSET);
const encoder = new TextEncoder();
const MIB = 1024 * 1024;

const api = new GuestHostApi({
  pluginId: init.pluginId,
  grants: new Set(init.grants),
  config: init.config,
  kv: init.kv,
  state: init.state,
  storageBytes: init.storageBytes,
  hostAllocBytes: init.memoryMiB * MIB,
});

function post(msg: StartupMessage): void {
  parentPort!.postMessage(msg);
}

function drainPort(): void {
  for (;;) {
    const m = receiveMessageOnPort(init.port);
    if (!m) return;
    const msg = m.message as PortMessage;
    if (msg.type === 'state') api.state = msg.state;
  }
}

async function instantiate(): Promise<{ plugin: Plugin; memory: WasmMemory | null } | null> {
  try {
    const g = await instantiateGuest(init.module, api, { grants: init.grants, config: init.config, memoryMiB: init.memoryMiB });
    return { plugin: g.plugin, memory: g.memory };
  } catch (err) {
    post({ type: 'load-error', message: (err as Error).message });
    return null;
  }
}

/**
 * Warm-up (issue 11): a guest's first call pays V8's lazy compilation of the
 * code it runs (for a JavaScript guest, QuickJS's interpreter: ~25 ms, past
 * a 20 ms callMs), so the first reply after every load came late and was
 * dropped. A guest that exports hearth_warmup (the C and JavaScript SDKs do;
 * docs/PLUGINS.md §15) gets one call of it here, before "ready", so the
 * cost falls inside the load. It has no input and touches no host state; its
 * effects, if any, are dropped, and a failing warm-up is ignored (the first
 * real call reports whatever is wrong).
 */
async function warmUp(plugin: Plugin): Promise<void> {
  try {
    if (!(await plugin.functionExists('hearth_warmup'))) return;
    api.beginCall();
    await plugin.call('hearth_warmup', '');
  } catch {
    // see above
  }
  api.takeEffects();
  await plugin.reset();
}

async function serve(plugin: Plugin, memory: WasmMemory | null): Promise<never> {
  const memoryKiB = (): number => (memory ? memory.buffer.byteLength / 1024 : 0);
  await warmUp(plugin);
  // Read the sequence number before announcing readiness: the owner may issue
  // its first call as soon as it hears "ready".
  let seen = Atomics.load(ctrl, Ctrl.ReqSeq);
  let calls = 0;
  post({ type: 'ready', memoryKiB: memoryKiB() });
  for (;;) {
    Atomics.wait(ctrl, Ctrl.ReqSeq, seen);
    const seq = Atomics.load(ctrl, Ctrl.ReqSeq);
    if (seq === seen) continue;
    seen = seq;
    drainPort();

    const word = ctrl[Ctrl.Command]!;
    const command = word >>> 16;
    const hook = init.hooks[word & 0xffff];
    const input = data.slice(0, ctrl[Ctrl.InputLen]!);
    let status: number = Status.Ok;
    let output: Uint8Array = new Uint8Array(0);
    api.beginCall();
    const started = performance.now();
    if (command !== Command.Call || hook === undefined) {
      status = Status.Trap;
      output = encoder.encode(`bad command word 0x${word.toString(16)}`);
    } else {
      try {
        const out = await plugin.call(hook, input);
        if (out) output = out.bytes();
      } catch (err) {
        const message = (err as Error).message ?? String(err);
        status = message.startsWith('Plugin-originated error: ') ? Status.GuestError : Status.Trap;
        const reason = api.abortMessage;
        output = encoder.encode(reason ? `${reason} [${message}]` : message);
      }
    }
    const elapsedUs = Math.round((performance.now() - started) * 1000);
    calls++;
    // Extism's foreground call() already clears its memory blocks on every call;
    // a reset every `resetEvery` calls keeps that true should the SDK change
    // (the 16,383-call block-index overflow of worker mode and of 1.0.3).
    // A failed call (a trap at the host memory limit, say) drops its Extism
    // blocks at once rather than holding them until the owner ends the thread.
    if (calls % init.resetEvery === 0 || status !== Status.Ok) await plugin.reset();

    const effects = api.takeEffects();
    let effectsBytes = effects.length ? encoder.encode(JSON.stringify(effects)) : new Uint8Array(0);
    if (output.length + effectsBytes.length > data.length) {
      status = Status.OutputTooLarge;
      output = encoder.encode(`output of ${output.length} bytes does not fit the ${data.length}-byte channel`);
      effectsBytes = new Uint8Array(0);
    }
    data.set(output, 0);
    data.set(effectsBytes, output.length);
    ctrl[Ctrl.Status] = status;
    ctrl[Ctrl.OutputLen] = output.length;
    ctrl[Ctrl.EffectsLen] = effectsBytes.length;
    ctrl[Ctrl.MemoryKiB] = memoryKiB();
    ctrl[Ctrl.ElapsedUs] = elapsedUs;
    ctrl[Ctrl.Calls] = calls;
    Atomics.store(ctrl, Ctrl.RespSeq, seq);
    Atomics.notify(ctrl, Ctrl.RespSeq);
  }
}

// On a load error the thread simply ends after reporting it.
warmRequestSchemas();
const loaded = await instantiate();
if (loaded) await serve(loaded.plugin, loaded.memory);
