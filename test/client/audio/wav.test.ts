// WAV I/O: round trips (16-bit within one LSB, f32 exact), foreign chunks
// skipped, EXTENSIBLE headers read, damaged files refused with a clear
// message, and WavWriter's header sizes right once closed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav, readWav, WavWriter, writeWav } from '../../../host/client/audio/wav.js';

const test = suite('client audio: WAV');
const dir = mkdtempSync(join(tmpdir(), 'hearth-wav-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function signal(n: number, channels = 1): Float32Array {
  const s = new Float32Array(n * channels);
  for (let i = 0; i < s.length; i++) s[i] = Math.sin(i * 0.01) * 0.9 + (i % 7 === 0 ? 0.05 : 0);
  s[0] = 1;
  s[1] = -1;
  return s;
}

/** A WAV file from raw parts, for headers our writer would never produce. */
function riff(chunks: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [id, body] of chunks) {
    const h = Buffer.alloc(8);
    h.write(id, 0, 'latin1');
    h.writeUInt32LE(body.length, 4);
    parts.push(h, body);
    if (body.length & 1) parts.push(Buffer.alloc(1));
  }
  const all = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(4 + all.length, 4);
  head.write('WAVE', 8, 'latin1');
  return Buffer.concat([head, all]);
}

function fmt(code: number, channels: number, rate: number, bits: number, extensibleSub?: number): Buffer {
  const b = Buffer.alloc(extensibleSub === undefined ? 16 : 40);
  b.writeUInt16LE(extensibleSub === undefined ? code : 0xfffe, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE((rate * channels * bits) / 8, 8);
  b.writeUInt16LE((channels * bits) / 8, 12);
  b.writeUInt16LE(bits, 14);
  if (extensibleSub !== undefined) {
    b.writeUInt16LE(22, 16);
    b.writeUInt16LE(bits, 18);
    b.writeUInt32LE(channels === 2 ? 3 : 4, 20);
    b.writeUInt16LE(extensibleSub, 24);
    Buffer.from([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(b, 26);
  }
  return b;
}

test('16-bit PCM round trip is within one LSB, full scale included', async () => {
  const s = signal(10_000, 2);
  const path = join(dir, 'a16.wav');
  await writeWav(path, s, { channels: 2, sampleRate: 48000, format: 'pcm16' });
  const w = readWav(path);
  assert.is(w.sampleRate, 48000);
  assert.is(w.channels, 2);
  assert.is(w.format, 'pcm16');
  assert.is(w.frames, 10_000);
  assert.is(w.samples.length, s.length);
  let worst = 0;
  for (let i = 0; i < s.length; i++) worst = Math.max(worst, Math.abs(w.samples[i]! - s[i]!));
  assert.ok(worst <= 1 / 32767, `worst error ${worst}`);
  assert.is(w.samples[0], 1, '+1 survives');
  assert.is(w.samples[1], -1, '-1 survives');
});

test('32-bit float round trip is exact', async () => {
  const s = signal(5000);
  s[5] = 1.5; // floats may exceed full scale; nothing clips them
  const path = join(dir, 'f32.wav');
  await writeWav(path, s, { channels: 1, format: 'f32' });
  const w = readWav(path);
  assert.is(w.format, 'f32');
  assert.is(w.sampleRate, 48000, 'the default rate');
  assert.equal(Array.from(w.samples), Array.from(s));
});

test('16-bit encoding clips out-of-range values and silences NaN', async () => {
  const path = join(dir, 'clip.wav');
  await writeWav(path, Float32Array.from([2, -3, NaN, 0.5]), { channels: 1 });
  const w = readWav(path);
  assert.equal(Array.from(w.samples.subarray(0, 3)), [1, -1, 0]);
});

test('unknown chunks before and after the data are skipped, odd sizes padded', () => {
  const pcm = Buffer.alloc(8);
  pcm.writeInt16LE(32767, 0);
  pcm.writeInt16LE(-32768, 2);
  pcm.writeInt16LE(16384, 4);
  pcm.writeInt16LE(0, 6);
  const bytes = riff([
    ['LIST', Buffer.from('INFOISFT\x05\x00\x00\x00sox!\x00', 'latin1')],
    ['junk', Buffer.alloc(3, 0xee)],
    ['fmt ', fmt(1, 1, 48000, 16)],
    ['bext', Buffer.alloc(17, 1)],
    ['data', pcm],
    ['cue ', Buffer.alloc(4)],
  ]);
  const w = parseWav(bytes);
  assert.equal(Array.from(w.samples), [1, -1, Math.fround(16384 / 32767), 0]);
});

test('WAVE_FORMAT_EXTENSIBLE wrapping PCM 16 and float 32 is read', () => {
  const pcm = Buffer.alloc(4);
  pcm.writeInt16LE(-16384, 0);
  pcm.writeInt16LE(16384, 2);
  const a = parseWav(riff([['fmt ', fmt(0, 2, 48000, 16, 1)], ['data', pcm]]));
  assert.is(a.channels, 2);
  assert.is(a.format, 'pcm16');
  assert.equal(Array.from(a.samples), [-0.5, Math.fround(16384 / 32767)]);
  const f = Buffer.alloc(8);
  f.writeFloatLE(0.25, 0);
  f.writeFloatLE(-0.75, 4);
  const b = parseWav(riff([['fmt ', fmt(0, 1, 44100, 32, 3)], ['data', f]]));
  assert.is(b.format, 'f32');
  assert.is(b.sampleRate, 44100);
  assert.equal(Array.from(b.samples), [0.25, -0.75]);
});

test('a damaged or foreign file gives a clear error naming the problem', () => {
  const good = riff([['fmt ', fmt(1, 1, 48000, 16)], ['data', Buffer.alloc(960)]]);
  const cases: [string, Buffer, RegExp][] = [
    ['garbage', Buffer.from('this is not audio at all, just text'), /not a WAV file/],
    ['too short', Buffer.from('RIFF'), /too short/],
    ['truncated data', good.subarray(0, good.length - 100), /truncated: the "data" chunk declares 960 bytes but only 860 follow/],
    ['no data chunk', riff([['fmt ', fmt(1, 1, 48000, 16)]]), /no "data" chunk/],
    ['24-bit', riff([['fmt ', fmt(1, 1, 48000, 24)], ['data', Buffer.alloc(6)]]), /unsupported encoding: PCM with 24 bits.*16-bit PCM and 32-bit float/],
    ['mu-law', riff([['fmt ', fmt(7, 1, 8000, 8)], ['data', Buffer.alloc(6)]]), /unsupported encoding: format code 7/],
    ['partial frame', riff([['fmt ', fmt(1, 2, 48000, 16)], ['data', Buffer.alloc(6)]]), /not a whole number of 4-byte frames/],
  ];
  for (const [what, bytes, re] of cases) {
    const path = join(dir, `bad-${what.replace(/\W/g, '')}.wav`);
    writeFileSync(path, bytes);
    try {
      readWav(path);
      assert.unreachable(`${what}: accepted`);
    } catch (err) {
      const msg = (err as Error).message;
      assert.match(msg, re, `${what}: ${msg}`);
      assert.ok(msg.includes(path), `${what}: the message names the file`);
    }
  }
  assert.throws(() => readWav(join(dir, 'missing.wav')), /WAV file ".*missing\.wav" not found/);
});

test('WavWriter streams blocks, and the header sizes are right after close (idempotent)', async () => {
  const path = join(dir, 'stream.wav');
  const w = await WavWriter.create(path, { channels: 2, format: 'pcm16' });
  const frame = new Float32Array(1920).fill(0.25);
  for (let i = 0; i < 500; i++) w.write(frame); // 3.84 MB of samples, many 64 KB blocks
  assert.is(w.frames, 500 * 960);
  await w.close();
  await w.close();
  const bytes = readFileSync(path);
  const dataBytes = 500 * 1920 * 2;
  assert.is(bytes.length, 44 + dataBytes);
  assert.is(bytes.toString('latin1', 0, 4), 'RIFF');
  assert.is(bytes.readUInt32LE(4), bytes.length - 8, 'RIFF size');
  assert.is(bytes.toString('latin1', 36, 40), 'data');
  assert.is(bytes.readUInt32LE(40), dataBytes, 'data size');
  assert.is(bytes.readUInt16LE(22), 2, 'channels');
  assert.is(bytes.readUInt32LE(24), 48000, 'rate');
  assert.is(bytes.readUInt32LE(28), 48000 * 4, 'byte rate');
  const back = readWav(path);
  assert.is(back.frames, 500 * 960);
  assert.ok(back.samples.every((x) => Math.abs(x - 0.25) <= 1 / 32767));
  assert.throws(() => w.write(frame), /closed/);
});

test('an f32 WavWriter carries a fact chunk with the frame count', async () => {
  const path = join(dir, 'fact.wav');
  const w = await WavWriter.create(path, { channels: 2, format: 'f32' });
  w.write(new Float32Array(1920 * 3).fill(-0.5));
  await w.close();
  const bytes = readFileSync(path);
  assert.is(bytes.length, 58 + 1920 * 3 * 4);
  assert.is(bytes.readUInt16LE(20), 3, 'IEEE float');
  assert.is(bytes.toString('latin1', 38, 42), 'fact');
  assert.is(bytes.readUInt32LE(46), 960 * 3, 'fact frame count');
  assert.is(bytes.readUInt32LE(54), 1920 * 3 * 4, 'data size');
  assert.is(readWav(path).frames, 2880);
});

test('an empty recording is a valid WAV of zero frames', async () => {
  const path = join(dir, 'empty.wav');
  const w = await WavWriter.create(path, { channels: 1 });
  await w.close();
  const back = readWav(path);
  assert.is(back.frames, 0);
  assert.is(back.channels, 1);
});

test.run();
