// Main-thread handle of the audio engine: starts its worker thread, passes
// settings and device choices down, relays the TLS voice fallback both ways
// (the only audio traffic that touches the main thread), and keeps the
// engine's newest report.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { VoiceSetup } from '../../protocol/server-messages.js';
import type { CaptureSpec, ChainGuestSpec, EngineReport, EngineSettings, FromEngine, PlaybackSpec, ToEngine } from './engine-protocol.js';

const WORKER_URL = new URL('./engine-worker.js', import.meta.url);

export interface VoiceStartOptions {
  setup: VoiceSetup;
  udpHost: string;
  udpPort?: number;
  fallbackAfterMs?: number;
  silentAfterMs?: number;
}

export interface TcpVoiceLane {
  sendVoiceFrame(datagram: Buffer): void;
}

export class AudioEngine extends EventEmitter {
  report: EngineReport | null = null;
  private lane: TcpVoiceLane | null = null;
  private stopped = false;
  private nextDump = 1;
  private readonly dumps = new Map<number, (d: Extract<FromEngine, { type: 'virtual.dumped' }>) => void>();

  private constructor(private readonly worker: Worker, private readonly logger: Logger) {
    super();
    worker.on('message', (m: FromEngine) => this.onMessage(m));
    worker.on('error', (err) => {
      this.logger.error({ err: err.message }, `audio engine thread failed: ${err.message}`);
      this.emit('failed', err);
    });
    worker.on('exit', (code) => {
      if (!this.stopped) {
        this.logger.error({ code }, `audio engine thread exited unexpectedly (code ${code})`);
        this.emit('failed', new Error(`audio engine exited (code ${code})`));
      }
      this.stopped = true;
    });
  }

  static async start(logger: Logger): Promise<AudioEngine> {
    const worker = new Worker(WORKER_URL, { name: 'hearth-audio', execArgv: ['--disable-warning=ExperimentalWarning'] });
    const engine = new AudioEngine(worker, logger.child({ component: 'audio' }));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('audio engine did not start within 10 s')), 10_000);
      engine.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
      engine.once('failed', (e: Error) => {
        clearTimeout(t);
        reject(e);
      });
    });
    return engine;
  }

  private send(m: ToEngine, transfer: ArrayBuffer[] = []): void {
    if (!this.stopped) this.worker.postMessage(m, transfer);
  }

  private onMessage(m: FromEngine): void {
    switch (m.type) {
      case 'ready':
        this.emit('ready');
        break;
      case 'report':
        this.report = m.report;
        this.emit('report', m.report);
        break;
      case 'tcp.send':
        this.lane?.sendVoiceFrame(Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength));
        break;
      case 'log':
        this.logger[m.level](m.data ?? {}, m.msg);
        break;
      case 'virtual.dumped':
        this.dumps.get(m.requestId)?.(m);
        this.dumps.delete(m.requestId);
        break;
      case 'devices.listed':
        this.emit('devices', { inputs: m.inputs, outputs: m.outputs, error: m.error });
        break;
      case 'stopped':
        this.emit('stopped');
        break;
    }
  }

  settings(settings: EngineSettings): void {
    this.send({ type: 'settings', settings });
  }

  ptt(down: boolean): void {
    this.send({ type: 'ptt', down });
  }

  devices(capture: CaptureSpec, playback: PlaybackSpec, extraEchoDelaySamples = 0): void {
    this.send({ type: 'devices', capture, playback, extraEchoDelaySamples });
  }

  /** Asks the audio thread for the sound cards; the answer comes as a 'devices' event. */
  listDevices(): void {
    this.send({ type: 'devices.list' });
  }

  reopenDevices(): void {
    this.send({ type: 'devices.reopen' });
  }

  chain(guests: ChainGuestSpec[]): void {
    this.send({ type: 'chain', guests });
  }

  enableGuest(pluginId: string, on: boolean): void {
    this.send({ type: 'chain.enable', pluginId, on });
  }

  /** Starts the voice lane in the audio thread; `lane` carries the TLS fallback. */
  startVoice(opts: VoiceStartOptions, lane: TcpVoiceLane): void {
    this.lane = lane;
    this.send({ type: 'voice.start', ...opts });
  }

  stopVoice(): void {
    this.lane = null;
    this.send({ type: 'voice.stop' });
  }

  /** A kind-2 frame that arrived over TLS. */
  tcpVoice(body: Buffer): void {
    const copy = new Uint8Array(body);
    this.send({ type: 'tcp.voice', body: copy }, [copy.buffer as ArrayBuffer]);
  }

  feedback(lossPercent: number): void {
    this.send({ type: 'feedback', lossPercent });
  }

  injectVirtual(samples: Float32Array): void {
    this.send({ type: 'virtual.inject', samples });
  }

  failVirtual(which: 'capture' | 'playback', reason: string): void {
    this.send({ type: 'virtual.fail', which, reason });
  }

  /** Makes this engine's 20 ms ticks fall on epochMs + k * 20 ms. */
  alignClock(epochMs: number): void {
    this.send({ type: 'clock.align', epochMs });
  }

  dumpVirtual(): Promise<Extract<FromEngine, { type: 'virtual.dumped' }>> {
    const id = this.nextDump++;
    return new Promise((resolve) => {
      this.dumps.set(id, resolve);
      this.send({ type: 'virtual.dump', requestId: id });
    });
  }

  /** Waits for the next report after now. */
  nextReport(): Promise<EngineReport> {
    return new Promise((resolve) => this.once('report', resolve));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    const done = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 3000);
      this.once('stopped', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.send({ type: 'stop' });
    await done;
    this.stopped = true;
    await this.worker.terminate();
  }
}
