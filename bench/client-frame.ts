// CPU per 20 ms frame of the client's audio engine, measured on a worker
// thread (where the engine runs) with the engine's own pipeline classes:
//   capture: mic frame → plugin chain (one hop) → gate → Opus encode, with 0 and 2 effect guests,
//            back to back (CPU), and paced at one frame per 20 ms as in a call (wall time with wake-ups, CPU per frame)
//   playback: N speakers' jitter buffers + Opus decode/FEC/PLC + mixer + limiter, N = 1, 5, 10
// Prints one JSON line: ms p50/p99 per frame and the fraction of the 20 ms budget.
// Targets: capture with 2 effects < 1 ms, playback of 10 speakers < 2 ms.
// Usage: node dist/bench/client-frame.js [frames]
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FRAMES = Number(process.argv[2] ?? 3000);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

if (isMainThread) {
  const w = new Worker(fileURLToPath(import.meta.url), { workerData: { frames: FRAMES, root } });
  w.on('message', (m: unknown) => {
    process.stdout.write(JSON.stringify(m) + '\n');
  });
  w.on('error', (e) => {
    process.stderr.write(`client-frame: ${e.stack}\n`);
    process.exitCode = 1;
  });
} else {
  const { frames, root: repo } = workerData as { frames: number; root: string };
  // The paced capture run is real time (20 ms a frame).
  const pacedFrames = 500;
  const { CapturePipeline } = await import('../host/client/audio/capture-pipeline.js');
  const { PlaybackPipeline } = await import('../host/client/audio/playback-pipeline.js');
  const { VirtualCapture } = await import('../host/client/audio/devices/virtual.js');
  const { AudioChain } = await import('../host/plugins/chain/audio-chain.js');
  const { OpusEncoder } = await import('../host/client/audio/opus.js');
  const { readWav } = await import('../host/client/audio/wav.js');
  const { parseManifest } = await import('../host/plugins/manifest.js');
  const { FRAME_SAMPLES } = await import('../host/client/audio/format.js');

  const speech = readWav(join(repo, 'test', 'fixtures', 'speech.wav')).samples;
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
    return { p50: Math.round(q(0.5) * 1000) / 1000, p99: Math.round(q(0.99) * 1000) / 1000 };
  };

  async function capture(guests: number) {
    const pipe = new CapturePipeline(() => undefined);
    pipe.gate.settings = { mode: 'continuous', thresholdDb: -45, hangoverMs: 0 };
    if (guests > 0) {
      const manifest = parseManifest(JSON.parse(readFileSync(join(repo, 'manifests', 'gain.json'), 'utf8')));
      const wasm = new Uint8Array(readFileSync(join(repo, 'guests', 'gain', 'build', 'gain.wasm')));
      pipe.chain = await AudioChain.start({
        guests: Array.from({ length: guests }, (_, i) => ({ manifest: { ...manifest, id: `gain-${i}` }, wasm, grants: ['audio.intercept', 'config.read'], config: { gain: 1 } })),
        onReport: () => undefined,
      });
    }
    const dev = new VirtualCapture({ source: speech, loop: true });
    await dev.open();
    // Back to back: both threads stay hot, so the wall time of a tick is its CPU cost.
    const times: number[] = [];
    for (let i = 0; i < frames + 200; i++) {
      const t0 = performance.now();
      pipe.tick(i, dev, i * 20);
      const dt = performance.now() - t0;
      if (i >= 200) times.push(dt);
    }
    // Paced like a call (one frame every 20 ms): the chain thread sleeps
    // between frames and has to wake for each one, so the wall time also
    // holds this machine's thread wake-up latency; the process CPU per frame
    // (all threads, the chain thread's spinning included) is the cost.
    const paced: number[] = [];
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < pacedFrames; i++) {
      const wait = start + i * 20 - performance.now();
      if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
      const t0 = performance.now();
      pipe.tick(frames + 200 + i, dev, (frames + 200 + i) * 20);
      paced.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuMsPerFrame = Math.round(((cpu.user + cpu.system) / 1000 / pacedFrames) * 1000) / 1000;
    const hop = pipe.chain?.stats();
    pipe.close();
    return { ...stats(times), paced: { ...stats(paced), cpuMsPerFrame }, hop };
  }

  function playback(speakers: number) {
    const pipe = new PlaybackPipeline();
    const enc = new OpusEncoder({ bitrate: 48_000, fec: true });
    const packets: Uint8Array[] = [];
    for (let at = 0; at + FRAME_SAMPLES <= speech.length; at += FRAME_SAMPLES) packets.push(enc.encode(speech.subarray(at, at + FRAME_SAMPLES)).slice());
    enc.close();
    const ref = { pushPlayed: () => undefined, read: () => undefined } as unknown as import('../host/client/audio/echo-reference.js').EchoReference;
    const times: number[] = [];
    for (let i = 0; i < frames + 200; i++) {
      const now = i * 20;
      // Each speaker offset in the file so they do not decode identical frames.
      for (let s = 0; s < speakers; s++) pipe.push(1000 + s, i, packets[(i + s * 37) % packets.length]!, now - 1);
      const t0 = performance.now();
      pipe.tick(now, null, ref, null, now);
      const dt = performance.now() - t0;
      if (i >= 200) times.push(dt);
    }
    pipe.close();
    return stats(times);
  }

  const cap0 = await capture(0);
  const cap2 = await capture(2);
  const play1 = playback(1);
  const play5 = playback(5);
  const play10 = playback(10);
  const budget = (ms: number) => Math.round((ms / 20) * 10_000) / 10_000;
  parentPort!.postMessage({
    bench: 'client-frame',
    frames,
    pacedFrames,
    captureMs: { guests0: { p50: cap0.p50, p99: cap0.p99 }, guests2: { p50: cap2.p50, p99: cap2.p99 } },
    capturePacedMs: { guests0: cap0.paced, guests2: cap2.paced },
    chainHopUs: cap2.hop ? { p50: cap2.hop.hopP50Us, p99: cap2.hop.hopP99Us } : null,
    playbackMs: { speakers1: play1, speakers5: play5, speakers10: play10 },
    budgetFractionP99: { capture2Guests: budget(cap2.p99), playback10Speakers: budget(play10.p99) },
    targets: { capture2GuestsUnder1ms: cap2.p99 < 1, playback10SpeakersUnder2ms: play10.p99 < 2 },
  });
}
