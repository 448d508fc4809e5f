// Owner side of a plugin's sandbox thread: starts the thread, issues calls
// over the shared-memory channel (protocol.ts) and waits for them with a
// deadline, synchronously (Atomics.wait: for a worker such as the audio
// thread) or asynchronously (Atomics.waitAsync: for the main thread).
//
// The Sandbox knows nothing about policies (overruns, faults, bypass): that
// is runtime.ts. It only guarantees that at most one call is in flight and
// that each result is collected exactly once.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { PluginError } from './errors.js';
import { waitAsync } from './platform.js';
import { truncate } from './plugin-log.js';
import { Command, Ctrl, CTRL_WORDS, DATA_OFFSET, Status, type Effect, type SandboxInit, type StartupMessage } from './protocol.js';

export interface SandboxOptions extends Omit<SandboxInit, 'sab'> {
  /** Size of the data area (largest input, and largest output + effects). */
  ioBytes: number;
  /** How long instantiation (including the guest's start function) may take. */
  loadTimeoutMs: number;
  /** JS heap cap of the sandbox thread (Extism's blocks live there). */
  heapMiB: number;
}

export interface CallResult {
  status: Status;
  /** The guest's output (status Ok), or the error text. Copied out of the channel. */
  output: Uint8Array;
  effects: Effect[];
  memoryKiB: number;
  elapsedUs: number;
  calls: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const WORKER_URL = new URL('./sandbox-worker.js', import.meta.url);

export class Sandbox {
  readonly pluginId: string;
  private readonly worker: Worker;
  private readonly ctrl: Int32Array;
  private readonly data: Uint8Array;
  private readonly port: MessagePort;
  private seq = 0;
  private pendingSeq = 0;
  private pendingSince = 0;
  private terminated = false;
  private exitListener: ((reason: string) => void) | null = null;
  /** Guest memory right after start-up (KiB). */
  readonly startMemoryKiB: number;

  private constructor(pluginId: string, worker: Worker, sab: SharedArrayBuffer, port: MessagePort, startMemoryKiB: number) {
    this.pluginId = pluginId;
    this.worker = worker;
    this.ctrl = new Int32Array(sab, 0, CTRL_WORDS);
    this.data = new Uint8Array(sab, DATA_OFFSET);
    this.port = port;
    this.startMemoryKiB = startMemoryKiB;
    worker.on('error', (err) => this.exited(`sandbox thread failed: ${err.message}`));
    worker.on('exit', (code) => this.exited(`sandbox thread exited (code ${code})`));
  }

  static async start(opts: SandboxOptions): Promise<Sandbox> {
    const sab = new SharedArrayBuffer(DATA_OFFSET + opts.ioBytes);
    const { port1, port2 } = new MessageChannel();
    const { ioBytes, loadTimeoutMs, heapMiB, ...init } = opts;
    void ioBytes;
    const workerData: SandboxInit & { port: typeof port2 } = { ...init, sab, port: port2 };
    const worker = new Worker(WORKER_URL, {
      workerData,
      transferList: [port2],
      name: `plugin:${opts.pluginId}`,
      env: {},
      execArgv: ['--disable-warning=ExperimentalWarning'],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: heapMiB, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    });
    // The guest has no way to print; anything on the thread's stdio is dropped.
    worker.stdout.resume();
    worker.stderr.resume();
    let timer: NodeJS.Timeout | undefined;
    try {
      const ready = await new Promise<StartupMessage & { type: 'ready' }>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new PluginError('LOAD_TIMEOUT', `plugin ${opts.pluginId} did not finish loading within ${loadTimeoutMs} ms (its start function may loop)`, opts.pluginId)),
          loadTimeoutMs,
        );
        worker.once('message', (msg: StartupMessage) => {
          if (msg.type === 'ready') resolve(msg);
          else reject(new PluginError('LOAD_FAILED', `plugin ${opts.pluginId} failed to instantiate: ${truncate(msg.message)}`, opts.pluginId));
        });
        worker.once('error', (err) => reject(new PluginError('LOAD_CRASHED', `plugin ${opts.pluginId}'s sandbox thread died while loading it: ${err.message}`, opts.pluginId)));
        worker.once('exit', (code) => reject(new PluginError('LOAD_CRASHED', `plugin ${opts.pluginId}'s sandbox thread exited while loading it (code ${code})`, opts.pluginId)));
      });
      clearTimeout(timer);
      worker.removeAllListeners('message');
      worker.removeAllListeners('error');
      worker.removeAllListeners('exit');
      return new Sandbox(opts.pluginId, worker, sab, port1, ready.memoryKiB);
    } catch (err) {
      clearTimeout(timer);
      worker.removeAllListeners();
      await worker.terminate();
      port1.close();
      throw err;
    }
  }

  /** Called once if the thread dies while it is supposed to be running. */
  onExit(listener: (reason: string) => void): void {
    this.exitListener = listener;
  }

  private exited(reason: string): void {
    if (this.terminated) return;
    this.terminated = true;
    this.port.close();
    this.exitListener?.(reason);
  }

  get capacity(): number {
    return this.data.length;
  }

  get busy(): boolean {
    return this.pendingSeq !== 0;
  }

  /** performance.now() at which the in-flight call started (0 when idle). */
  get busySince(): number {
    return this.pendingSince;
  }

  get alive(): boolean {
    return !this.terminated;
  }

  /** Replaces the guest's state snapshot (seen from its next call on). */
  publishState(state: unknown): void {
    if (!this.terminated) this.port.postMessage({ type: 'state', state });
  }

  /**
   * Starts a call. The input is a string (written as UTF-8 straight into the
   * channel) or bytes. Throws if a call is in flight or the input is too big.
   */
  begin(hookIndex: number, input: string | Uint8Array): void {
    if (this.pendingSeq) throw new Error(`plugin ${this.pluginId}: a call is already in flight`);
    if (this.terminated) throw new Error(`plugin ${this.pluginId}: sandbox is not running`);
    let length: number;
    if (typeof input === 'string') {
      const r = encoder.encodeInto(input, this.data);
      if (r.read !== input.length) throw new RangeError(`input larger than the ${this.data.length}-byte channel`);
      length = r.written;
    } else {
      if (input.length > this.data.length) throw new RangeError(`input larger than the ${this.data.length}-byte channel`);
      this.data.set(input, 0);
      length = input.length;
    }
    const ctrl = this.ctrl;
    ctrl[Ctrl.Command] = (Command.Call << 16) | hookIndex;
    ctrl[Ctrl.InputLen] = length;
    this.seq = (this.seq + 1) | 0 || 1;
    this.pendingSeq = this.seq;
    this.pendingSince = performance.now();
    Atomics.store(ctrl, Ctrl.ReqSeq, this.seq);
    Atomics.notify(ctrl, Ctrl.ReqSeq, 1);
  }

  private done(): boolean {
    return Atomics.load(this.ctrl, Ctrl.RespSeq) === this.pendingSeq;
  }

  private collect(): CallResult {
    const ctrl = this.ctrl;
    const outLen = ctrl[Ctrl.OutputLen]!;
    const effLen = ctrl[Ctrl.EffectsLen]!;
    const output = this.data.slice(0, outLen);
    let effects: Effect[] = [];
    if (effLen) {
      try {
        effects = JSON.parse(decoder.decode(this.data.subarray(outLen, outLen + effLen))) as Effect[];
      } catch {
        effects = [{ kind: 'log', level: 'error', source: 'host', msg: 'sandbox sent unreadable effects' }];
      }
    }
    const result: CallResult = {
      status: ctrl[Ctrl.Status]! as Status,
      output,
      effects,
      memoryKiB: ctrl[Ctrl.MemoryKiB]!,
      elapsedUs: ctrl[Ctrl.ElapsedUs]!,
      calls: ctrl[Ctrl.Calls]!,
    };
    this.pendingSeq = 0;
    this.pendingSince = 0;
    return result;
  }

  /** The in-flight call's result if it has finished (collected once), else null. */
  poll(): CallResult | null {
    if (!this.pendingSeq || !this.done()) return null;
    return this.collect();
  }

  /** Blocks this thread up to `timeoutMs` for the in-flight call. */
  waitSync(timeoutMs: number): CallResult | null {
    if (!this.pendingSeq) return null;
    const seq = this.pendingSeq;
    const deadline = performance.now() + timeoutMs;
    while (!this.done()) {
      const left = deadline - performance.now();
      if (left <= 0 || this.terminated) return null;
      Atomics.wait(this.ctrl, Ctrl.RespSeq, (seq - 1) | 0, left);
    }
    return this.collect();
  }

  /**
   * Waits up to `timeoutMs` without blocking the event loop. Resolves null on
   * timeout, or when someone else (poll) collected the result meanwhile.
   */
  async waitAsync(timeoutMs: number): Promise<CallResult | null> {
    const seq = this.pendingSeq;
    if (!seq) return null;
    const deadline = performance.now() + timeoutMs;
    // Atomics.waitAsync does not keep Node's event loop alive; this timer does.
    const keepAlive = setTimeout(() => {}, Math.max(1, timeoutMs) + 5);
    try {
      for (;;) {
        if (this.pendingSeq !== seq || this.terminated) return null;
        if (this.done()) return this.collect();
        const left = deadline - performance.now();
        if (left <= 0) return null;
        const w = waitAsync(this.ctrl, Ctrl.RespSeq, (seq - 1) | 0, left);
        if (w.async) await w.value;
      }
    } finally {
      clearTimeout(keepAlive);
    }
  }

  /** Stops the thread (a runaway guest included). */
  async terminate(): Promise<void> {
    if (this.terminated) return;
    this.terminated = true;
    this.pendingSeq = 0;
    this.pendingSince = 0;
    this.port.close();
    await this.worker.terminate();
  }

  /** The output as text (UTF-8). */
  static text(result: CallResult): string {
    return decoder.decode(result.output);
  }
}
