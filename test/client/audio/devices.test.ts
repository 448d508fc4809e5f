// Audio devices: the virtual pair (sample-accurate positions and times,
// injected impulses, simulated failure and reopen), WAV capture and playback,
// the factories, name matching, and PortAudio for real inside a worker thread
// (as the engine uses it) against ALSA's null device. Nothing here is timed on
// the null device: it does not pace (thousands of buffers per second).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { DeviceError } from '../../../host/client/audio/devices/device.js';
import { createCapture, openCapture, openPlayback, parseDeviceSpec } from '../../../host/client/audio/devices/index.js';
import { matchDevice, type PortAudioDeviceInfo } from '../../../host/client/audio/devices/portaudio.js';
import { VirtualCapture, VirtualPlayback } from '../../../host/client/audio/devices/virtual.js';
import { WavCapture, WavPlayback } from '../../../host/client/audio/devices/wav-device.js';
import { readWav, writeWav } from '../../../host/client/audio/wav.js';
import type { ProbeResult } from './portaudio-worker.js';

const test = suite('client audio: devices');
const dir = mkdtempSync(join(tmpdir(), 'hearth-devices-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => (i + 1) / 100_000);

test('VirtualCapture: frame n is source samples [960n, 960n+960), timed by the tick passed in', async () => {
  const src = ramp(960 * 5 + 100);
  const cap = new VirtualCapture({ source: src });
  await cap.open();
  const out = new Float32Array(960);
  for (let n = 0; n < 5; n++) {
    assert.ok(cap.read(out, 1000 + 20 * n));
    assert.is(out[0], src[960 * n], `frame ${n} starts at sample ${960 * n}`);
    assert.is(out[959], src[960 * n + 959]);
  }
  assert.is(cap.position, 4800);
  assert.not.ok(cap.ended);
  assert.ok(cap.read(out, 1100));
  assert.is(out[99], src[4899], 'the tail of the source');
  assert.ok(out.subarray(100).every((x) => x === 0), 'then silence');
  assert.ok(cap.ended);
  // Sample k of the frame read at tick t was captured at t - 20 + k/48.
  assert.is(cap.firstTickMs, 1000);
  assert.is(cap.captureTimeMs(0), 980);
  assert.is(cap.captureTimeMs(960 * 2 + 480), 1040 - 20 + 10);
  assert.equal(cap.frameTimes(), [1000, 1020, 1040, 1060, 1080, 1100]);
  assert.ok(Number.isNaN(cap.captureTimeMs(960 * 6)), 'not read yet');
});

test('VirtualCapture: a generator source is sampled at absolute indices; loop repeats an array', async () => {
  const gen = new VirtualCapture({ source: (i) => i });
  await gen.open();
  const out = new Float32Array(960);
  gen.read(out, 0);
  gen.read(out, 20);
  assert.is(out[0], 960);
  assert.is(out[959], 1919);
  const loop = new VirtualCapture({ source: Float32Array.from([1, 2, 3]), loop: true });
  await loop.open();
  loop.read(out, 0);
  assert.equal(Array.from(out.subarray(0, 7)), [1, 2, 3, 1, 2, 3, 1]);
  assert.not.ok(loop.ended);
});

test('an impulse injected into capture at sample k is played back at the right sample and time', async () => {
  const cap = new VirtualCapture();
  const pb = new VirtualPlayback();
  await cap.open();
  await pb.open();
  const mic = new Float32Array(960);
  const spk = new Float32Array(1920);
  const k = 960 * 3 + 123;
  assert.is(cap.inject(Float32Array.from([0.8, -0.4]), k), k);
  for (let n = 0; n < 8; n++) {
    const t = 500 + 20 * n;
    assert.ok(cap.read(mic, t));
    // A loopback "engine" with one frame of delay, so the latency is known: 20 ms.
    pb.write(spk, t);
    for (let i = 0; i < 960; i++) spk[2 * i] = spk[2 * i + 1] = mic[i]!;
  }
  const hit = pb.findFirst(0.5);
  assert.ok(hit, 'found');
  assert.is(hit!.sampleIndex, k + 960, 'one frame later in the recording');
  const captured = cap.captureTimeMs(k);
  assert.is(captured, 500 + 20 * 3 - 20 + 123 / 48);
  assert.is(hit!.timeMs - captured, 40, 'one frame of engine delay + one frame of capture buffering');
  const mono = pb.recordedMono();
  assert.is(mono[k + 960 + 1], Math.fround(-0.4));
  assert.is(pb.recorded().length, 8 * 1920);
  assert.is(cap.inject(Float32Array.from([1]), 0), cap.position, 'an injection in the past starts at the next sample');
});

test('VirtualPlayback: findFirst sees a hard-panned click; times and dump follow the ticks', async () => {
  const pb = new VirtualPlayback({ recordLimitFrames: 3 });
  await pb.open();
  const f = new Float32Array(1920);
  pb.write(f, 100);
  f[2 * 700 + 1] = -0.9; // right channel only
  pb.write(f, 120);
  const hit = pb.findFirst(0.5);
  assert.equal(hit, { sampleIndex: 960 + 700, timeMs: 120 + 700 / 48 });
  assert.is(pb.findFirst(0.5, 960 + 701), null);
  assert.is(pb.playTimeMs(0), 100);
  pb.write(f, 140);
  assert.ok(pb.write(f, 160), 'past the record limit a write still succeeds');
  assert.is(pb.frames, 3);
  assert.equal(pb.stats(), { frames: 4, underruns: 0, overruns: 0, dropped: 0, notRecorded: 1 });
  const d = pb.dump();
  assert.is(d.firstTickMs, 100);
  assert.is(d.samples.length, 3 * 1920);
});

test('fail(): reads give silence and false, writes are dropped, error is DEVICE_FAILED; reopen works', async () => {
  const cap = new VirtualCapture({ name: 'desk mic', source: () => 0.5 });
  const pb = new VirtualPlayback({ name: 'headset' });
  await cap.open();
  await pb.open();
  const out = new Float32Array(960);
  assert.ok(cap.read(out, 0));
  cap.fail('unplugged');
  pb.fail('unplugged');
  assert.not.ok(cap.read(out, 20));
  assert.ok(out.every((x) => x === 0), 'silence');
  assert.not.ok(pb.write(new Float32Array(1920), 20));
  assert.instance(cap.error, DeviceError);
  assert.is(cap.error!.code, 'DEVICE_FAILED');
  assert.match(cap.error!.message, /virtual input "desk mic" failed: unplugged/);
  assert.is(pb.error!.code, 'DEVICE_FAILED');
  assert.is(cap.stats().underruns, 1);
  assert.is(pb.stats().dropped, 1);
  await cap.close();
  await cap.open();
  await pb.close();
  await pb.open();
  assert.is(cap.error, null);
  assert.ok(cap.read(out, 40));
  assert.is(out[0], 0.5);
  assert.ok(pb.write(new Float32Array(1920), 40));
  assert.is(cap.position, 1920, 'the failed read did not consume the source');
});

test('a wrongly sized frame is a programming error (RangeError), not a device failure', async () => {
  const cap = await openCapture({ kind: 'virtual' });
  const pb = await openPlayback({ kind: 'virtual' });
  assert.throws(() => cap.read(new Float32Array(1920), 0), RangeError);
  assert.throws(() => pb.write(new Float32Array(960), 0), RangeError);
});

test('WavCapture plays the file frame by frame, then silence with ended = true', async () => {
  const src = ramp(960 * 2 + 10);
  const path = join(dir, 'mono.wav');
  await writeWav(path, src, { channels: 1, format: 'f32' });
  const cap = new WavCapture({ path });
  await cap.open();
  const out = new Float32Array(960);
  assert.ok(cap.read(out, 0));
  assert.is(out[0], src[0]);
  assert.ok(cap.read(out, 20));
  assert.is(out[959], src[1919]);
  assert.not.ok(cap.ended);
  assert.ok(cap.read(out, 40), 'the last partial frame');
  assert.is(out[9], src[1929]);
  assert.is(out[10], 0);
  assert.ok(cap.ended);
  assert.ok(cap.read(out, 60), 'past the end: silence, still a frame');
  assert.ok(out.every((x) => x === 0));
  assert.equal({ ended: cap.stats().ended, frames: cap.stats().frames }, { ended: true, frames: 4 });
});

test('WavCapture downmixes a stereo file and refuses 44.1 kHz clearly', async () => {
  const stereo = new Float32Array(960 * 2);
  for (let i = 0; i < 960; i++) {
    stereo[2 * i] = 0.5;
    stereo[2 * i + 1] = -0.25;
  }
  const sp = join(dir, 'stereo.wav');
  await writeWav(sp, stereo, { channels: 2, format: 'f32' });
  const cap = new WavCapture({ path: sp });
  await cap.open();
  const out = new Float32Array(960);
  cap.read(out, 0);
  assert.is(out[0], 0.125);
  assert.is(out[959], 0.125);

  const cd = join(dir, 'cd.wav');
  await writeWav(cd, new Float32Array(4410), { channels: 1, sampleRate: 44100 });
  const bad = new WavCapture({ path: cd });
  const err = await bad.open().then(() => null, (e: unknown) => e as DeviceError);
  assert.instance(err, DeviceError);
  assert.is(err!.code, 'DEVICE_FORMAT');
  assert.match(err!.message, /is 44100 Hz; Hearth captures at 48000 Hz and does not resample/);
  assert.is(bad.error, err, 'error is kept on the device');
  assert.not.ok(bad.read(out, 0));

  const missing = await new WavCapture({ path: join(dir, 'nope.wav') }).open().catch((e: DeviceError) => e);
  assert.is((missing as DeviceError).code, 'DEVICE_NOT_FOUND');
  const junk = join(dir, 'junk.wav');
  writeFileSync(junk, 'not a wav');
  const garbage = await new WavCapture({ path: junk }).open().catch((e: DeviceError) => e);
  assert.is((garbage as DeviceError).code, 'DEVICE_FORMAT');
  assert.match((garbage as DeviceError).message, /not a WAV file/);
});

test('WavPlayback records 48 kHz stereo through WavWriter; a reopen starts a new file', async () => {
  const path = join(dir, 'out.wav');
  const pb = new WavPlayback({ path, format: 'f32' });
  await pb.open();
  const f = new Float32Array(1920);
  for (let n = 0; n < 10; n++) {
    f.fill(n / 10);
    assert.ok(pb.write(f, n * 20));
  }
  await pb.close();
  assert.not.ok(pb.write(f, 300), 'closed: dropped');
  const w = readWav(path);
  assert.equal([w.sampleRate, w.channels, w.frames], [48000, 2, 9600]);
  assert.is(w.samples[1920 * 3], Math.fround(0.3));
  await pb.open();
  pb.write(f, 0);
  await pb.close();
  assert.is(readWav(path).frames, 960);
  const nowhere = new WavPlayback({ path: join(dir, 'no', 'such', 'dir.wav') });
  const err = await nowhere.open().catch((e: DeviceError) => e);
  assert.is((err as DeviceError).code, 'DEVICE_OPEN_FAILED');
});

test('factories and device specs', async () => {
  assert.is(await openCapture({ kind: 'none' }), null);
  const v = await openCapture({ kind: 'virtual', samples: Float32Array.from([0.25]) });
  const out = new Float32Array(960);
  assert.ok(v.read(out, 0));
  assert.is(out[0], 0.25);
  assert.is(createCapture({ kind: 'portaudio', name: 'USB' })!.kind, 'portaudio', 'created without opening');
  assert.equal(parseDeviceSpec('wav:in.wav'), { kind: 'wav', path: 'in.wav' });
  assert.equal(parseDeviceSpec('default'), { kind: 'portaudio', name: null });
  assert.equal(parseDeviceSpec('portaudio:USB Mic'), { kind: 'portaudio', name: 'USB Mic' });
  assert.equal(parseDeviceSpec('Headset'), { kind: 'portaudio', name: 'Headset' });
  assert.equal(parseDeviceSpec('virtual'), { kind: 'virtual' });
  assert.throws(() => parseDeviceSpec('wav:'), /needs a file path/);
});

test('matchDevice: exact, then case-insensitive, then a unique substring; clear errors otherwise', () => {
  const d = (id: number, name: string, def = false): PortAudioDeviceInfo => ({ id, name, default: def, hostApi: 'ALSA', maxChannels: 2, defaultSampleRate: 48000 });
  const list = [d(0, 'HDA Intel PCH: ALC892 Analog (hw:0,0)'), d(1, 'USB Audio Device: - (hw:1,0)'), d(2, 'pulse'), d(3, 'default', true), d(4, 'USB')];
  assert.is(matchDevice(list, null, 'input').id, 3, 'no name: the default');
  assert.is(matchDevice(list, 'USB', 'input').id, 4, 'an exact name beats substrings');
  assert.is(matchDevice(list, 'PULSE', 'input').id, 2);
  assert.is(matchDevice(list, 'alc892', 'input').id, 0);
  try {
    matchDevice(list, 'USB Mic', 'input');
    assert.unreachable();
  } catch (e) {
    assert.is((e as DeviceError).code, 'DEVICE_NOT_FOUND');
    assert.match((e as DeviceError).message, /input device "USB Mic" not found; available: "HDA Intel.*", "USB Audio Device: - \(hw:1,0\)", "pulse", "default", "USB"/);
  }
  assert.throws(() => matchDevice(list, 'hw:', 'output'), (e: Error) => (e as DeviceError).code === 'DEVICE_AMBIGUOUS' && /matches 2 devices/.test(e.message));
  assert.throws(() => matchDevice([], null, 'output'), /no default output device; available: none/);
});

test('PortAudio inside a worker thread, against a private ALSA null-device config', async () => {
  if (process.env.HEARTH_SKIP_PORTAUDIO === '1') {
    process.stderr.write('devices.test: HEARTH_SKIP_PORTAUDIO=1, PortAudio probe NOT run\n');
    return;
  }
  const conf = join(dir, 'asound.conf');
  writeFileSync(conf, 'pcm.!default { type null }\npcm.hearth_mic { type null }\npcm.hearth_speaker { type null }\n');
  // The probe runs in a worker thread (as the engine uses naudiodon) inside a
  // child process of its own (portaudio-probe.ts says why); libasound reads
  // ALSA_CONFIG_PATH from that process's environment.
  const r = await new Promise<ProbeResult | { fatal: string }>((resolve) => {
    execFile(
      process.execPath,
      [fileURLToPath(new URL('./portaudio-probe.js', import.meta.url))],
      { env: { ...process.env, ALSA_CONFIG_PATH: conf }, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
        if (line) {
          try {
            return resolve(JSON.parse(line) as ProbeResult | { fatal: string });
          } catch {
            // fall through to the crash report
          }
        }
        resolve({ fatal: `the probe process ended without a result (${err ? `${err.message}; signal ${(err as { signal?: string }).signal ?? 'none'}` : 'no output'}) ${stderr.slice(-500)}` });
      },
    );
  });
  if ('fatal' in r) assert.unreachable(`PortAudio could not be used in this environment (ALSA null device via ALSA_CONFIG_PATH): ${r.fatal}`);
  const p = r as ProbeResult;
  assert.ok(p.inputs.includes('hearth_mic') && p.inputs.includes('default'), `inputs: ${p.inputs.join(', ')}`);
  assert.ok(p.outputs.includes('hearth_speaker'), `outputs: ${p.outputs.join(', ')}`);
  assert.ok(p.defaultInput === 'default', `default input ${p.defaultInput}`);
  assert.is(p.captureName, 'hearth_mic');
  assert.ok(p.captureFrames >= 50, `capture frames ${p.captureFrames}`);
  assert.ok(p.frameLengths.every((n) => n === 960), `frame lengths ${p.frameLengths.join(',')}`);
  assert.is(p.bigChunkSamples, 4096, 'naudiodon reads of 4096 samples...');
  assert.ok(p.bigChunkFrames >= 20, `...still come out as 960-sample frames (${p.bigChunkFrames})`);
  assert.is(p.playbackName, 'hearth_speaker');
  assert.ok(p.playbackAccepted === 100, `playback accepted ${p.playbackAccepted}/100`);
  assert.ok(p.playbackHanded > 0, `frames handed to PortAudio: ${p.playbackHanded}`);
  assert.is(p.playbackAccounted, 100, 'every accepted frame was handed over, dropped as an overrun, or is still queued');
  assert.is(p.burstOverruns, 6, '10 frames in one tick into a queue of 3 (one in flight) drop the 6 oldest');
  assert.is(p.notFound.code, 'DEVICE_NOT_FOUND');
  assert.match(p.notFound.message, /input device "USB Mic" not found; available: .*"hearth_mic"/);
  assert.is(p.notFoundOut.code, 'DEVICE_NOT_FOUND');
  assert.match(p.notFoundOut.message, /output device "USB Headset" not found; available: .*"hearth_speaker"/);
  assert.is(p.ambiguous, 'DEVICE_AMBIGUOUS');
  assert.equal(p.streamError, { code: 'DEVICE_FAILED', readAfter: false, reopened: true });
  assert.match(p.streamErrorMessage, /input device "hearth_mic" failed: stream error: unplugged/);
  assert.is(p.stall.code, 'DEVICE_FAILED');
  assert.match(p.stall.message, /input device "hearth_mic" failed: no audio for 2\d\d ms/);
  assert.is(p.playbackError, 'DEVICE_FAILED');
});

test.run();
