// Worker entry for devices.test.ts: exercises the PortAudio devices inside a
// worker thread, as the audio engine does, and posts what it saw. The parent
// has pointed ALSA at a null-device config with hearth_mic and hearth_speaker.
// The null device does not pace, so nothing here is about time: tick times are
// synthetic, and loops wait for events with a bounded number of loop turns.
import { parentPort } from 'node:worker_threads';
import type { EventEmitter } from 'node:events';
import type { DeviceError } from '../../../host/client/audio/devices/device.js';
import { listDevices, PortAudioCapture, PortAudioPlayback } from '../../../host/client/audio/devices/portaudio.js';

export interface ProbeResult {
  inputs: string[];
  outputs: string[];
  defaultInput: string | null;
  captureName: string;
  captureFrames: number;
  frameLengths: number[];
  bigChunkSamples: number;
  bigChunkFrames: number;
  playbackName: string;
  playbackAccepted: number;
  playbackHanded: number;
  /** handed + overruns + still queued: must equal the frames accepted. */
  playbackAccounted: number;
  burstOverruns: number;
  notFound: { code: string; message: string };
  notFoundOut: { code: string; message: string };
  ambiguous: string;
  streamError: { code: string; readAfter: boolean; reopened: boolean };
  streamErrorMessage: string;
  stall: { code: string; message: string };
  playbackError: string;
}

const turn = () => new Promise<void>((r) => setImmediate(r));
/** The device's naudiodon stream, to simulate trouble on it. */
function streamOf(d: PortAudioCapture | PortAudioPlayback): EventEmitter & { pause(): void } {
  const s = (d as unknown as { stream: (EventEmitter & { pause(): void }) | null }).stream;
  if (!s) throw new Error(`${d.name} has no stream: ${d.error?.message ?? 'not open'}`);
  return s;
}
const errorOf = async (p: Promise<unknown>): Promise<{ code: string; message: string }> => {
  const e = await p.then(() => null, (err: DeviceError) => err);
  return e ? { code: e.code, message: e.message } : { code: 'none', message: 'opened' };
};

/**
 * Reads until `want` frames came through (or a bound on loop turns), recording
 * each frame's length. The synthetic clock moves only with delivered frames,
 * so waiting for the device never looks like a stall.
 */
async function readFrames(cap: PortAudioCapture, want: number, lengths?: number[]): Promise<number> {
  const out = new Float32Array(960);
  let got = 0;
  for (let i = 0, tick = 0; got < want && i < 200_000; i++) {
    if (cap.read(out, tick)) {
      tick += 20;
      got++;
      lengths?.push(out.length);
    } else await turn();
  }
  return got;
}

async function probe(): Promise<ProbeResult> {
  const { inputs, outputs } = listDevices();
  const r: Partial<ProbeResult> = {
    inputs: inputs.map((d) => d.name),
    outputs: outputs.map((d) => d.name),
    defaultInput: inputs.find((d) => d.default)?.name ?? null,
  };

  const cap = new PortAudioCapture({ name: 'hearth_mic' });
  await cap.open();
  r.captureName = cap.name;
  r.frameLengths = [];
  r.captureFrames = await readFrames(cap, 50, r.frameLengths);

  // A mid-call stream error: silence, DEVICE_FAILED, and a reopen that works.
  streamOf(cap).emit('error', new Error('unplugged'));
  const after = cap.read(new Float32Array(960), 0);
  const code = cap.error?.code ?? 'none';
  r.streamErrorMessage = cap.error?.message ?? '';
  await cap.close();
  await cap.open();
  r.streamError = { code, readAfter: after, reopened: cap.error === null && (await readFrames(cap, 5)) === 5 };
  await cap.close();

  // naudiodon's default read size (4,096 samples) is still framed into 960s.
  const big = new PortAudioCapture({ name: 'hearth_mic', readSamples: 4096 });
  await big.open();
  r.bigChunkFrames = await readFrames(big, 20);
  r.bigChunkSamples = Number(big.stats().chunkSamples);
  await big.close();

  // A device that stops delivering (stream paused) fails once the loop has turned.
  const stalled = new PortAudioCapture({ name: 'hearth_mic', stallMs: 200 });
  await stalled.open();
  await readFrames(stalled, 3);
  streamOf(stalled).pause();
  const out = new Float32Array(960);
  for (let i = 0, tick = 100; i < 1000 && !stalled.error; i++, tick += 20) {
    stalled.read(out, tick);
    await turn();
  }
  r.stall = { code: stalled.error?.code ?? 'none', message: stalled.error?.message ?? '' };
  await stalled.close();

  // The synthetic ticks below run far faster than real time (a write may stay
  // in flight for many of them), so the stall watch is off here.
  const pb = new PortAudioPlayback({ name: 'hearth_speaker', stallMs: 1e12 });
  await pb.open();
  r.playbackName = pb.name;
  const frame = new Float32Array(1920);
  for (let i = 0; i < 1920; i++) frame[i] = Math.sin(i / 20) * 0.1;
  let accepted = 0;
  for (let i = 0; i < 100; i++) {
    if (pb.write(frame, i * 20)) accepted++;
    await turn();
  }
  r.playbackAccepted = accepted;
  for (let i = 0; i < 10_000 && (pb.stats().inFlight || Number(pb.stats().queuedFrames) > 0); i++) await turn();
  const st = pb.stats();
  r.playbackHanded = Number(st.handed);
  r.playbackAccounted = Number(st.handed) + Number(st.overruns) + Number(st.queuedFrames);
  // Ten frames within one tick (no loop turn between): one goes in flight, three queue, six oldest drop.
  const before = Number(pb.stats().overruns);
  for (let i = 0; i < 10; i++) pb.write(frame, 5000);
  r.burstOverruns = Number(pb.stats().overruns) - before;
  streamOf(pb).emit('error', new Error('gone'));
  r.playbackError = pb.error?.code ?? 'none';
  await pb.close();

  r.notFound = await errorOf(new PortAudioCapture({ name: 'USB Mic' }).open());
  r.notFoundOut = await errorOf(new PortAudioPlayback({ name: 'USB Headset' }).open());
  r.ambiguous = (await errorOf(new PortAudioCapture({ name: 'hearth_' }).open())).code;
  return r as ProbeResult;
}

if (parentPort) {
  const port = parentPort;
  probe().then(
    (r) => port.postMessage(r),
    (err: unknown) => port.postMessage({ fatal: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
  );
}
