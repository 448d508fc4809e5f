// Entry point of the audio thread. It owns the 20 ms frame clock, the audio
// devices, the capture chain (with its plugin chain thread), Opus, the jitter
// buffers, the mixer and the UDP voice socket, so nothing on the main event
// loop (TLS, JSON, UI, logging) can make audio late. The main thread sends it
// settings and relays the TLS fallback; it reports back every REPORT_MS.
import { parentPort, workerData } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { AudioChain } from '../../plugins/chain/audio-chain.js';
import { VoiceTransport, type ReceivedVoice, type VoiceTcpLane } from './voice-transport.js';
import { CapturePipeline } from './capture-pipeline.js';
import { CpuMeter } from './cpu-meter.js';
import { listDevices, openCapture, openPlayback } from './devices/index.js';
import type { CaptureDevice, PlaybackDevice } from './devices/device.js';
import { VirtualCapture, VirtualPlayback } from './devices/virtual.js';
import { LoopbackRoom } from './devices/loopback-room.js';
import { FRAME_SAMPLES } from './format.js';
import { FrameClock } from './frame-clock.js';
import { PlaybackPipeline } from './playback-pipeline.js';
import { describeDevice, toChainGuests } from './engine-support.js';
import type { CaptureSpec, EngineReport, FromEngine, PlaybackSpec, ToEngine } from './engine-protocol.js';

const REPORT_MS = 50;
const port = parentPort!;
void workerData;

function post(m: FromEngine, transfer?: ArrayBuffer[]): void {
  port.postMessage(m, transfer ?? []);
}
function log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void {
  post({ type: 'log', level, msg, ...(data ? { data } : {}) });
}

/** The TLS fallback lane, as seen from this thread: one hop through the main thread each way. */
class RelayedTcpLane extends EventEmitter implements VoiceTcpLane {
  sendVoiceFrame(datagram: Buffer): void {
    const copy = new Uint8Array(datagram);
    post({ type: 'tcp.send', body: copy }, [copy.buffer as ArrayBuffer]);
  }
}

const lane = new RelayedTcpLane();
let transport: VoiceTransport | null = null;
let capture: CaptureDevice | null = null;
let playback: PlaybackDevice | null = null;
let captureSpec: CaptureSpec = { kind: 'none' };
/** The synthetic echo path of a `room` capture spec. */
let room: LoopbackRoom | null = null;
let playbackSpec: PlaybackSpec = { kind: 'none' };
const captureCpu = new CpuMeter();
const playbackCpu = new CpuMeter();
let lastInput = { levelDb: -120, peakDb: -120, gateOpen: false };

const capturePipe = new CapturePipeline((payload, timestamp) => transport?.sendVoice(payload, timestamp));
const playbackPipe = new PlaybackPipeline();
let chainRestarts = 0;
/** Sample indexes where virtual.inject put its samples (for latency measurements). */
const injected: number[] = [];
/** Highest jitter-buffer target depth seen per speaker (shows growth under jitter in the stats). */
const maxTarget = new Map<number, number>();
/** Duplicates the voice lane's replay window caught before they reached a jitter buffer. */
const transportDuplicates = new Map<number, number>();

function onVoice(v: ReceivedVoice): void {
  // The jitter buffer orders by frame index (timestamp / 960) rather than by
  // sequence: keep-alives use sequence numbers too, so voice sequences have gaps.
  playbackPipe.push(v.token, Number(v.timestamp / BigInt(FRAME_SAMPLES)), v.payload, performance.now());
}

function tick(index: number, dueMs: number): void {
  const t0 = performance.now();
  // Playback first: the frame written now is the one the next mic frames echo
  // (EchoReference accounts for that one-frame offset).
  playbackPipe.tick(dueMs, playback, capturePipe.reference, capturePipe.loopback ? capturePipe.processed : null, performance.timeOrigin + dueMs);
  room?.pushPlayed(playbackPipe.frame);
  const t1 = performance.now();
  const r = capturePipe.tick(index, capture, performance.timeOrigin + dueMs);
  const t2 = performance.now();
  playbackCpu.add((t1 - t0) * 1000);
  captureCpu.add((t2 - t1) * 1000);
  lastInput = { levelDb: r.levelDb, peakDb: r.peakDb, gateOpen: r.gateOpen };
  if (speakingChanged()) reportSoon();
}

// A speaking light must follow the audio, not the 50 ms report period: when a
// speaker starts or stops (or we start or stop transmitting), a report goes
// out right after this tick, at most one extra per tick.
const wasSpeaking = new Map<number, boolean>();
let wasTransmitting = false;
function speakingChanged(): boolean {
  let changed = capturePipe.transmitting !== wasTransmitting;
  wasTransmitting = capturePipe.transmitting;
  for (const [token, sp] of playbackPipe.speakers) {
    const now = sp.playout.speaking;
    if (wasSpeaking.get(token) !== now) {
      wasSpeaking.set(token, now);
      changed = true;
    }
  }
  if (wasSpeaking.size > playbackPipe.speakers.size) for (const token of wasSpeaking.keys()) if (!playbackPipe.speakers.has(token)) wasSpeaking.delete(token);
  return changed;
}
let reportPending = false;
function reportSoon(): void {
  if (reportPending) return;
  reportPending = true;
  setImmediate(() => {
    reportPending = false;
    post({ type: 'report', report: report() });
  });
}

const clock = new FrameClock(tick);

async function openDevices(): Promise<void> {
  await Promise.all([capture?.close(), playback?.close()]);
  capture = null;
  playback = null;
  room = null;
  const spec = captureSpec;
  let captureOpen: Promise<CaptureDevice | null>;
  let newRoom: LoopbackRoom | null = null;
  if (spec.kind === 'room') {
    const r = (newRoom = new LoopbackRoom(spec));
    const dev = new VirtualCapture({ name: 'room', source: (i) => r.sample(i) });
    captureOpen = dev.open().then(() => dev);
  } else captureOpen = openCapture(spec);
  const [c, p] = await Promise.allSettled([captureOpen, openPlayback(playbackSpec)]);
  // The room starts hearing with the tick the mic starts reading: they stay sample-aligned.
  if (c.status === 'fulfilled') {
    capture = c.value;
    room = newRoom;
  }
  else log('warn', `input device: ${(c.reason as Error).message}`);
  if (p.status === 'fulfilled') playback = p.value;
  else log('warn', `output device: ${(p.reason as Error).message}`);
  lastOpenErrors = {
    capture: c.status === 'rejected' ? errorOf(c.reason) : null,
    playback: p.status === 'rejected' ? errorOf(p.reason) : null,
  };
}
let lastOpenErrors: { capture: { code: string; message: string } | null; playback: { code: string; message: string } | null } = { capture: null, playback: null };
function errorOf(e: unknown): { code: string; message: string } {
  return { code: (e as { code?: string }).code ?? 'DEVICE_OPEN_FAILED', message: (e as Error).message ?? String(e) };
}

async function setChain(specs: Extract<ToEngine, { type: 'chain' }>['guests']): Promise<void> {
  const guests = toChainGuests(specs);
  const current = capturePipe.chain;
  if (guests.length === 0) {
    capturePipe.chain = null;
    await current?.close();
    return;
  }
  // A running chain swaps in the new guest list once its new thread is
  // ready (frames keep flowing through the old one meanwhile).
  if (current) return current.replace(guests);
  capturePipe.chain = await AudioChain.start({
    guests,
    onReport: (r: { kind: string; pluginId: string; message: string }) => {
      if (r.kind === 'restarted') chainRestarts++;
      log(r.kind === 'overrun' ? 'debug' : 'warn', `audio plugin ${r.pluginId}: ${r.kind}: ${r.message}`, { plugin: r.pluginId, kind: r.kind });
    },
  });
}

function report(): EngineReport {
  const cap = captureCpu.summary();
  const pb = playbackCpu.summary();
  const chainStats = capturePipe.chain?.stats() ?? null;
  return {
    at: Date.now(),
    clock: { ...clock.stats, underruns: clock.stats.catchUpFrames + clock.stats.skippedFrames + (playback?.stats().underruns ?? 0) },
    input: { ...lastInput, transmitting: capturePipe.transmitting, device: describeDevice(capture, captureSpec, lastOpenErrors.capture) },
    output: { levelDb: playbackPipe.levelDb, device: describeDevice(playback, playbackSpec, lastOpenErrors.playback) },
    speakers: [...playbackPipe.speakers].map(([token, sp]) => {
      const s = sp.playout.stats();
      const maxDepth = Math.max(maxTarget.get(token) ?? 0, s.targetMs);
      maxTarget.set(token, maxDepth);
      return {
        token,
        speaking: sp.playout.speaking,
        levelDb: s.rmsDb,
        received: s.received,
        late: s.late,
        duplicate: s.duplicate + (transportDuplicates.get(token) ?? 0),
        inserted: s.inserted,
        dropped: s.dropped,
        lost: s.lost,
        concealed: s.concealed,
        fecRecovered: s.fecRecovered,
        depthMs: s.depthMs,
        targetMs: s.targetMs,
        jitterMs: s.jitterMs,
        maxDepthMs: maxDepth,
        playoutDelayMs: s.playoutDelayMs,
      };
    }),
    transport: transport
      ? (() => {
          const t = transport.stats();
          return { mode: t.mode, rttMs: t.rttMs, sent: t.sent, received: t.received, keepalivesSent: t.keepalivesSent, keepaliveAnswers: t.keepaliveAnswers, rejected: t.rejected };
        })()
      : null,
    encoder: { expectedLossPercent: capturePipe.expectedLossPercent, framesEncoded: capturePipe.framesEncoded, bytesEncoded: capturePipe.bytesEncoded },
    chain: chainStats ? { frames: chainStats.frames, bypassedFrames: chainStats.bypassedFrames, restarts: chainRestarts, guests: chainStats.guests } : null,
    cpu: { captureUsP50: cap.p50, captureUsP99: cap.p99, playbackUsP50: pb.p50, playbackUsP99: pb.p99 },
    echoDelaySamples: capturePipe.reference.delay,
  };
}

const reportTimer = setInterval(() => post({ type: 'report', report: report() }), REPORT_MS);

let queue: Promise<void> = Promise.resolve();
port.on('message', (m: ToEngine) => {
  // Messages that open things are async; keep them in order.
  queue = queue.then(() => handle(m)).catch((err) => log('error', `audio engine: ${m.type} failed: ${(err as Error).message}`));
});

async function handle(m: ToEngine): Promise<void> {
  switch (m.type) {
    case 'settings': {
      const s = m.settings;
      capturePipe.gate.settings = s.gate;
      capturePipe.gate.selfMute = s.selfMute;
      capturePipe.inputGain = Math.pow(10, s.inputGainDb / 20);
      capturePipe.loopback = s.loopback;
      playbackPipe.deaf = s.deaf;
      playbackPipe.volume = s.outputVolume;
      playbackPipe.mix = s.speakers;
      break;
    }
    case 'ptt':
      capturePipe.gate.pttDown = m.down;
      break;
    case 'devices':
      captureSpec = m.capture;
      playbackSpec = m.playback;
      capturePipe.reference.setExtraDelay(m.extraEchoDelaySamples ?? 0);
      await openDevices();
      break;
    case 'devices.reopen':
      await openDevices();
      break;
    case 'devices.list':
      try {
        const l = listDevices();
        post({ type: 'devices.listed', inputs: l.inputs.map((d) => ({ name: d.name, default: d.default })), outputs: l.outputs.map((d) => ({ name: d.name, default: d.default })), error: null });
      } catch (err) {
        post({ type: 'devices.listed', inputs: [], outputs: [], error: (err as Error).message });
      }
      break;
    case 'chain':
      await setChain(m.guests);
      break;
    case 'chain.enable':
      capturePipe.chain?.setEnabled(m.pluginId, m.on);
      break;
    case 'voice.start': {
      transport?.close();
      transport = new VoiceTransport(lane, m.setup, {
        udpHost: m.udpHost,
        ...(m.udpPort !== undefined ? { udpPort: m.udpPort } : {}),
        ...(m.fallbackAfterMs !== undefined ? { fallbackAfterMs: m.fallbackAfterMs } : {}),
        ...(m.silentAfterMs !== undefined ? { silentAfterMs: m.silentAfterMs } : {}),
      });
      transport.on('voice', onVoice);
      transport.on('duplicate', (token: number) => transportDuplicates.set(token, (transportDuplicates.get(token) ?? 0) + 1));
      transport.on('mode', (mode: string) => log('info', `voice lane now over ${mode === 'udp' ? 'UDP' : 'TLS (fallback)'}`, { mode }));
      transport.on('socketError', (err: Error) => log('warn', `voice socket: ${err.message}`));
      await transport.start();
      break;
    }
    case 'voice.stop':
      transport?.close();
      transport = null;
      playbackPipe.close();
      break;
    case 'tcp.voice':
      lane.emit('voice', Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength));
      break;
    case 'feedback':
      capturePipe.setExpectedLoss(m.lossPercent);
      break;
    case 'virtual.inject':
      if (capture instanceof VirtualCapture) injected.push(capture.inject(m.samples));
      break;
    case 'clock.align':
      clock.align(m.epochMs - performance.timeOrigin);
      break;
    case 'virtual.fail':
      if (m.which === 'capture' && capture instanceof VirtualCapture) capture.fail(m.reason);
      if (m.which === 'playback' && playback instanceof VirtualPlayback) playback.fail(m.reason);
      break;
    case 'virtual.dump': {
      const d = playback instanceof VirtualPlayback ? playback.dump() : { samples: new Float32Array(0), frameTimes: [] as number[] };
      const cap = capture instanceof VirtualCapture ? capture : null;
      post({
        type: 'virtual.dumped',
        requestId: m.requestId,
        recorded: d.samples,
        playbackFrameTimes: d.frameTimes,
        injections: injected.map((i) => ({ sampleIndex: i, capturedAtMs: cap ? cap.captureTimeMs(i) : NaN })),
        lookaheadSamples: capturePipe.encoder.lookaheadSamples,
        playoutDelayMs: Object.fromEntries([...playbackPipe.speakers].map(([token, sp]) => [token, sp.playout.stats().playoutDelayMs])),
      });
      break;
    }
    case 'stop':
      clock.stop();
      clearInterval(reportTimer);
      transport?.close();
      transport = null;
      capturePipe.close();
      playbackPipe.close();
      await Promise.allSettled([capture?.close(), playback?.close()]);
      post({ type: 'report', report: report() });
      post({ type: 'stopped' });
      port.close();
      break;
  }
}

clock.start();
post({ type: 'ready' });
