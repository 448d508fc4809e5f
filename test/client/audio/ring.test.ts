// FrameRing: arbitrary chunks in, exact frames out, sample for sample; a full
// ring drops the oldest samples and counts them; an empty one says so.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameRing } from '../../../host/client/audio/ring.js';

const test = suite('client audio: FrameRing');

/** A ramp chunk: sample i of the whole stream has value i, so order and loss are visible. */
function ramp(from: number, n: number): Float32Array {
  const c = new Float32Array(n);
  for (let i = 0; i < n; i++) c[i] = from + i;
  return c;
}

test('chunks of 4096 come out as exact 960-sample frames, in order, sample for sample', () => {
  const ring = new FrameRing(4096 * 4, 960);
  const out = new Float32Array(960);
  let written = 0;
  let next = 0;
  let frames = 0;
  for (let chunk = 0; chunk < 30; chunk++) {
    assert.is(ring.write(ramp(written, 4096)), 0, 'nothing dropped');
    written += 4096;
    while (ring.framesAvailable > 0) {
      assert.ok(ring.readFrame(out));
      for (let k = 0; k < 960; k++) {
        if (out[k] !== next + k) assert.unreachable(`frame ${frames} sample ${k}: ${out[k]} != ${next + k}`);
      }
      next += 960;
      frames++;
    }
  }
  assert.is(frames, Math.floor((30 * 4096) / 960));
  assert.is(ring.available, 30 * 4096 - frames * 960, 'the remainder stays buffered');
  assert.is(ring.dropped, 0);
  assert.is(ring.underflows, 0);
});

test('odd chunk sizes (1, 7, 959, 961, 3000) wrap around the ring without losing a sample', () => {
  const ring = new FrameRing(4000, 960);
  const out = new Float32Array(960);
  const sizes = [1, 7, 959, 961, 3, 500, 1500, 13];
  let written = 0;
  let next = 0;
  for (let round = 0; round < 200; round++) {
    const n = sizes[round % sizes.length]!;
    if (ring.available + n > ring.capacity) {
      while (ring.readFrame(out)) {
        for (let k = 0; k < 960; k++) if (out[k] !== next + k) assert.unreachable(`sample ${next + k} came out as ${out[k]}`);
        next += 960;
      }
    }
    ring.write(ramp(written, n));
    written += n;
  }
  assert.is(ring.dropped, 0);
  assert.ok(next > 100 * 960, `read ${next} samples`);
});

test('write with offset/length takes only that part of the source', () => {
  const ring = new FrameRing(960, 960);
  const src = ramp(0, 2000);
  ring.write(src, 1000, 960);
  const out = new Float32Array(960);
  assert.ok(ring.readFrame(out));
  assert.is(out[0], 1000);
  assert.is(out[959], 1959);
});

test('overflow drops the OLDEST samples and counts them', () => {
  const ring = new FrameRing(1920, 960);
  assert.is(ring.write(ramp(0, 1500)), 0);
  assert.is(ring.write(ramp(1500, 1000)), 580, 'this write dropped 580');
  assert.is(ring.dropped, 580);
  assert.is(ring.available, 1920);
  const out = new Float32Array(960);
  ring.readFrame(out);
  assert.is(out[0], 580, 'the oldest surviving sample is 580');
  ring.readFrame(out);
  assert.is(out[959], 2499, 'the newest sample is kept');
});

test('a chunk larger than the whole ring keeps its last `capacity` samples', () => {
  const ring = new FrameRing(960, 960);
  ring.write(ramp(0, 100));
  assert.is(ring.write(ramp(100, 5000)), 100 + 5000 - 960);
  assert.is(ring.available, 960);
  const out = new Float32Array(960);
  ring.readFrame(out);
  assert.is(out[0], 5100 - 960);
  assert.is(out[959], 5099);
});

test('underflow: no partial frame is consumed, out is zero-filled and it is counted', () => {
  const ring = new FrameRing(4096, 960);
  ring.write(ramp(1, 959));
  const out = new Float32Array(960).fill(7);
  assert.not.ok(ring.readFrame(out));
  assert.ok(out.every((x) => x === 0), 'zero-filled');
  assert.is(ring.underflows, 1);
  assert.is(ring.available, 959, 'nothing consumed');
  ring.write(ramp(960, 1));
  assert.ok(ring.readFrame(out));
  assert.is(out[0], 1);
  assert.is(out[959], 960);
});

test('discard and clear', () => {
  const ring = new FrameRing(4096, 960);
  ring.write(ramp(0, 3000));
  assert.is(ring.discard(1000), 1000);
  assert.is(ring.dropped, 1000, 'discard counts as dropped');
  const out = new Float32Array(960);
  ring.readFrame(out);
  assert.is(out[0], 1000);
  ring.clear();
  assert.is(ring.available, 0);
  assert.is(ring.dropped, 1000, 'clear does not count');
});

test('a wrongly sized out buffer or a bad capacity is a RangeError', () => {
  assert.throws(() => new FrameRing(100, 960), RangeError);
  const ring = new FrameRing(2000, 960);
  assert.throws(() => ring.readFrame(new Float32Array(480)), RangeError);
});

test.run();
