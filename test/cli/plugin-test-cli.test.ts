// `hearth plugin test` spawned for real: one audio plugin over a WAV file,
// frame by frame through the capture chain; the output WAV, the JSON line of
// per-frame cost, the echo canceller's reference, and clear errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav, writeWav } from '../../host/client/audio/wav.js';
import { sha256Hex } from '../../host/plugins/manifest.js';
import { testGuestWasm } from '../plugins/helpers.js';
import { tempDir } from '../helpers/server.js';

const MAIN = fileURLToPath(new URL('../../host/cli/main.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FRAME = 960;

function hearth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [MAIN, ...args], { cwd: REPO, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** 1.5 s of a test tone, not a whole number of frames (the last frame is partial). */
function tone(n = 72_000 + 123, phase = 0): Float32Array {
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.fround(0.6 * Math.sin((i + phase) / 17) * Math.sin(i / 3000));
  return s;
}

interface Summary {
  plugin: string;
  frames: number;
  usP50: number;
  usP99: number;
  usMax: number;
  overruns: number;
  bypassed: number;
}

function summaryOf(stdout: string): Summary {
  const lines = stdout.trim().split('\n');
  assert.is(lines.length, 1, `one JSON line, got: ${stdout}`);
  return JSON.parse(lines[0]!) as Summary;
}

/** Frame by frame: each is `want(frame)` or, when the tool says so, bypassed (the input unchanged). */
function checkFrames(input: Float32Array, output: Float32Array, want: (x: number, i: number) => number, bypassed: number, tolerance = 0): void {
  assert.is(output.length, input.length, 'same length as the input');
  let unprocessed = 0;
  for (let at = 0; at < input.length; at += FRAME) {
    const end = Math.min(at + FRAME, input.length);
    let processed = true;
    let untouched = true;
    for (let i = at; i < end; i++) {
      if (Math.abs(output[i]! - want(input[i]!, i)) > tolerance) processed = false;
      if (Math.abs(output[i]! - input[i]!) > tolerance) untouched = false;
    }
    if (!processed && !untouched) assert.unreachable(`frame ${at / FRAME} is neither processed nor the input`);
    if (!processed) unprocessed++;
  }
  assert.ok(unprocessed <= bypassed, `${unprocessed} unprocessed frames, ${bypassed} reported bypassed`);
  assert.ok(bypassed <= 5, `a few bypassed frames at most on a busy machine (${bypassed})`);
}

test('gain over a WAV: the output is half the input and the JSON line parses', async () => {
  const dir = tempDir('hearth-plugtest-');
  try {
    const input = tone();
    const inPath = join(dir, 'in.wav');
    const outPath = join(dir, 'out.wav');
    await writeWav(inPath, input, { channels: 1, sampleRate: 48_000, format: 'f32' });
    const r = await hearth(['plugin', 'test', 'manifests/gain.json', '--input', inPath, '--output', outPath, '--config', '{"gain":0.5}']);
    assert.is(r.code, 0, r.stderr);
    const s = summaryOf(r.stdout);
    assert.is(s.plugin, 'gain');
    assert.is(s.frames, Math.ceil(input.length / FRAME));
    assert.ok(s.usP50 > 0 && s.usP99 >= s.usP50 && s.usMax >= s.usP99, JSON.stringify(s));
    assert.ok(s.bypassed >= 0 && s.overruns >= 0);
    const out = readWav(outPath);
    assert.is(out.sampleRate, 48_000);
    assert.is(out.channels, 1);
    assert.is(out.format, 'f32');
    checkFrames(input, out.samples, (x) => Math.fround(x * 0.5), s.bypassed);

    // 16-bit PCM in, 16-bit PCM out (within one step of the quantiser).
    const in16 = join(dir, 'in16.wav');
    await writeWav(in16, input, { channels: 1, sampleRate: 48_000, format: 'pcm16' });
    const r16 = await hearth(['plugin', 'test', 'manifests/gain.json', '-i', in16, '-o', outPath, '--config', '{"gain":0.5}', '--grant-requested']);
    assert.is(r16.code, 0, r16.stderr);
    const pcm = readWav(in16).samples;
    const out16 = readWav(outPath);
    assert.is(out16.format, 'pcm16');
    checkFrames(pcm, out16.samples, (x) => x * 0.5, summaryOf(r16.stdout).bypassed, 1.5 / 32768);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an echo canceller gets --reference aligned to the input', async () => {
  const dir = tempDir('hearth-plugtest-');
  try {
    // The echoref test guest answers mic - reference.
    const wasm = testGuestWasm('echoref');
    copyFileSync(join(REPO, 'test', 'plugins', 'guests', 'build', 'echoref.wasm'), join(dir, 'echoref.wasm'));
    const manifest = {
      manifestVersion: 1,
      id: 'echoref',
      name: 'echoref',
      version: '0.0.1',
      wasm: { file: 'echoref.wasm', sha256: sha256Hex(wasm) },
      hooks: ['on_aec_raw'],
      capabilities: ['audio.intercept'],
      audio: { slot: 'aec' },
      limits: { callMs: 20, killMs: 1000 },
    };
    writeFileSync(join(dir, 'echoref.json'), JSON.stringify(manifest));
    const mic = tone();
    const far = tone(50_000, 999); // shorter than the mic: silence after its end
    await writeWav(join(dir, 'mic.wav'), mic, { channels: 1, sampleRate: 48_000, format: 'f32' });
    await writeWav(join(dir, 'far.wav'), far, { channels: 1, sampleRate: 48_000, format: 'f32' });
    const r = await hearth(['plugin', 'test', join(dir, 'echoref.json'), '-i', join(dir, 'mic.wav'), '-o', join(dir, 'out.wav'), '--reference', join(dir, 'far.wav')]);
    assert.is(r.code, 0, r.stderr);
    const s = summaryOf(r.stdout);
    assert.is(s.plugin, 'echoref');
    checkFrames(mic, readWav(join(dir, 'out.wav')).samples, (x, i) => Math.fround(x - (i < far.length ? far[i]! : 0)), s.bypassed);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad flags and missing files: one clear line, non-zero exit', async () => {
  const dir = tempDir('hearth-plugtest-');
  try {
    const inPath = join(dir, 'in.wav');
    await writeWav(inPath, tone(4800), { channels: 1, sampleRate: 48_000 });
    await writeWav(join(dir, 'in44.wav'), tone(4410), { channels: 1, sampleRate: 44_100 });
    const o = join(dir, 'o.wav');
    const cases: [string[], RegExp][] = [
      [['manifests/gain.json', '-i', join(dir, 'missing.wav'), '-o', o], /input: WAV file .*missing\.wav" not found/],
      [['manifests/gain.json', '-i', join(dir, 'in44.wav'), '-o', o], /44100 Hz; the capture chain runs at 48000 Hz/],
      [['manifests/gain.json', '-i', inPath], /required option '-o, --output <wav>'/],
      [['manifests/gain.json', '-i', inPath, '-o', o, '--frobnicate'], /unknown option '--frobnicate'/],
      [['manifests/gain.json', '-i', inPath, '-o', o, '--config', '{gain'], /--config must be a JSON object/],
      [['manifests/gain.json', '-i', inPath, '-o', o, '--config', '{"gain":99}'], /config does not match its schema/],
      [['manifests/missing.json', '-i', inPath, '-o', o], /cannot read plugin manifest/],
      [['manifests/noop.json', '-i', inPath, '-o', o], /no raw audio hook/],
      [['manifests/gain.json', '-i', inPath, '-o', o, '--reference', inPath], /--reference is for an echo canceller/],
    ];
    for (const [args, re] of cases) {
      const r = await hearth(['plugin', 'test', ...args]);
      assert.is(r.code, 1, `${args.join(' ')}: exit code`);
      const lines = r.stderr.trim().split('\n');
      assert.is(lines.length, 1, `${args.join(' ')}: one line, got ${r.stderr}`);
      assert.match(lines[0]!, re);
      assert.is(r.stdout, '', 'nothing on stdout');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
