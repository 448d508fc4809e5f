import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EmptyFrameError, encodeFrame, encodeJsonFrame, FrameDecoder, FrameKind, FrameTooLargeError } from '../../host/protocol/framing.js';

test('encodes [length u32 BE][kind][body] with length = 1 + body', () => {
  const f = encodeJsonFrame({ type: 'ping', id: 1 });
  assert.is(f.toString('hex', 0, 5), '0000001701');
  assert.is(f.subarray(5).toString(), '{"type":"ping","id":1}');
});

test('decodes frames split at every byte boundary and glued together', () => {
  const a = encodeJsonFrame({ type: 'a' });
  const b = encodeFrame(FrameKind.voice, Buffer.from([1, 2, 3]));
  const all = Buffer.concat([a, b, a]);
  for (let cut = 0; cut <= all.length; cut++) {
    const d = new FrameDecoder(1024);
    const frames = [...d.push(all.subarray(0, cut), 0), ...d.push(all.subarray(cut), 0)];
    assert.is(frames.length, 3, `cut at ${cut}`);
    assert.is(frames[1]!.kind, FrameKind.voice);
    assert.equal([...frames[1]!.body], [1, 2, 3]);
    assert.is(frames[2]!.body.toString(), '{"type":"a"}');
    assert.is(d.partialSince, null);
  }
});

test('tracks when a partial frame started (for the stall timeout)', () => {
  const d = new FrameDecoder(1024);
  const f = encodeJsonFrame({ type: 'x' });
  d.push(f.subarray(0, 3), 100);
  assert.is(d.partialSince, 100);
  d.push(f.subarray(3, 6), 200);
  assert.is(d.partialSince, 100, 'still the same partial frame');
  d.push(f.subarray(6), 300);
  assert.is(d.partialSince, null);
});

test('rejects oversized frames from the header alone, and zero length', () => {
  const d = new FrameDecoder(100);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(101);
  assert.throws(() => d.push(head), (e: unknown) => e instanceof FrameTooLargeError && e.length === 101);
  assert.throws(() => new FrameDecoder(100).push(Buffer.alloc(4)), (e: unknown) => e instanceof EmptyFrameError);
  head.writeUInt32BE(100);
  assert.not.throws(() => new FrameDecoder(100).push(head));
});

test.run();
