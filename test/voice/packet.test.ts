import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import {
  DEFAULT_VOICE_BACKEND,
  HEADER_BYTES,
  MAX_DATAGRAM_BYTES,
  MAX_PAYLOAD_BYTES,
  TAG_BYTES,
  VoiceCipher,
  deriveVoiceKeys,
  readHeader,
  writeHeader,
  VOICE_BACKENDS,
  voiceBackendAvailable,
  type VoiceBackend,
} from '../../host/voice/packet.js';

// Every backend that loads here: sodium (sodium-native), node (node:crypto), noble (@noble/ciphers).
const BACKENDS: readonly VoiceBackend[] = VOICE_BACKENDS.filter(voiceBackendAvailable);
const KEY = Buffer.from('8f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0', 'hex');
const OTHER_KEY = Buffer.from('0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0', 'hex');

/** Reference construction written out longhand with node:crypto; shares no code with the module. */
function referenceSeal(key: Buffer, token: number, seq: bigint, ts: bigint, payload: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt32BE(token, 0);
  header.writeBigUInt64BE(seq, 4);
  header.writeBigUInt64BE(ts, 12);
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(token, 0);
  nonce.writeBigUInt64BE(seq, 4);
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(header, { plaintextLength: payload.length });
  const ct = Buffer.concat([c.update(payload), c.final()]);
  return Buffer.concat([header, ct, c.getAuthTag()]);
}

/** RFC 5869 HKDF-SHA256 by hand (HMAC only), to check deriveVoiceKeys independently of hkdfSync. */
function hkdfByHand(ikm: Buffer, salt: string, info: string, length: number): Buffer {
  const prk = createHmac('sha256', Buffer.from(salt, 'ascii')).update(ikm).digest();
  const blocks: Buffer[] = [];
  let prev = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(blocks).length < length; i++) {
    prev = createHmac('sha256', prk).update(prev).update(Buffer.from(info, 'ascii')).update(Buffer.from([i])).digest();
    blocks.push(prev);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

test('constants', () => {
  assert.is(HEADER_BYTES, 20);
  assert.is(TAG_BYTES, 16);
  assert.is(MAX_PAYLOAD_BYTES, 1275);
  assert.is(MAX_DATAGRAM_BYTES, 20 + 1275 + 16);
  assert.ok(BACKENDS.includes(DEFAULT_VOICE_BACKEND));
  assert.is(new VoiceCipher(KEY).backend, DEFAULT_VOICE_BACKEND);
});

test('deriveVoiceKeys matches a hand-rolled HKDF and separates directions', () => {
  const secret = randomBytes(32);
  const keys = deriveVoiceKeys(secret);
  assert.is(keys.clientToServer.toString('hex'), hkdfByHand(secret, 'hearth-voice-v1', 'client->server', 32).toString('hex'));
  assert.is(keys.serverToClient.toString('hex'), hkdfByHand(secret, 'hearth-voice-v1', 'server->client', 32).toString('hex'));
  assert.is(keys.clientToServer.length, 32);
  assert.not.equal(keys.clientToServer, keys.serverToClient);
  assert.throws(() => deriveVoiceKeys(randomBytes(16)), RangeError);
  assert.throws(() => deriveVoiceKeys(new Uint8Array(0)), RangeError);
});

test('writeHeader/readHeader: layout, bigint and number paths agree', () => {
  const a = Buffer.alloc(24, 0xee);
  writeHeader(a, 2, 0x01020304, 0x0506070809n, 0x0a0b0c0d0e0fn);
  assert.is(a.toString('hex'), 'eeee' + '01020304' + '0000000506070809' + '00000a0b0c0d0e0f' + 'eeee');
  const b = Buffer.alloc(24, 0xee);
  writeHeader(b, 2, 0x01020304, 0x0506070809, 0x0a0b0c0d0e0f);
  assert.equal(b, a);
  assert.equal(readHeader(a.subarray(2)), { token: 0x01020304, sequence: 0x0506070809n, timestamp: 0x0a0b0c0d0e0fn });

  const big = Buffer.alloc(20);
  writeHeader(big, 0, 0xffffffff, 2n ** 64n - 1n, 2n ** 53n + 1n);
  assert.equal(readHeader(big), { token: 0xffffffff, sequence: 2n ** 64n - 1n, timestamp: 2n ** 53n + 1n });
  // number path across the 2^32 boundary
  writeHeader(big, 0, 0, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER);
  assert.equal(readHeader(big), { token: 0, sequence: 2n ** 32n + 5n, timestamp: BigInt(Number.MAX_SAFE_INTEGER) });

  assert.is(readHeader(Buffer.alloc(19)), null);
  assert.is(readHeader(new Uint8Array(0)), null);
  assert.ok(readHeader(new Uint8Array(20)) !== null, 'plain Uint8Array accepted');
});

test('writeHeader rejects out-of-range values', () => {
  const buf = Buffer.alloc(20);
  assert.throws(() => writeHeader(buf, 0, -1, 0n, 0n), RangeError);
  assert.throws(() => writeHeader(buf, 0, 2 ** 32, 0n, 0n), RangeError);
  assert.throws(() => writeHeader(buf, 0, 1.5, 0n, 0n), RangeError);
  assert.throws(() => writeHeader(buf, 0, 1, -1n, 0n), RangeError);
  assert.throws(() => writeHeader(buf, 0, 1, 2n ** 64n, 0n), RangeError);
  assert.throws(() => writeHeader(buf, 0, 1, 0, 2n ** 64n), RangeError);
  assert.throws(() => writeHeader(buf, 0, 1, 2 ** 53, 0), RangeError);
  assert.throws(() => writeHeader(buf, 0, 1, -1, 0), RangeError);
  assert.throws(() => writeHeader(buf, 0, 1, 0.5, 0), RangeError);
  assert.throws(() => writeHeader(buf, 1, 1, 0, 0), RangeError);
});

for (const backend of BACKENDS) {
  test(`[${backend}] round trip for payload sizes 0..max`, () => {
    const c = new VoiceCipher(KEY, { backend });
    for (const size of [0, 1, 15, 16, 17, 64, 120, 1000, MAX_PAYLOAD_BYTES]) {
      const payload = randomBytes(size);
      const seq = BigInt(size) * 3n + 1n;
      const dg = c.seal(0xabcdef01, seq, 48000n + seq, payload);
      assert.is(dg.length, HEADER_BYTES + size + TAG_BYTES);
      const opened = c.open(dg);
      assert.ok(opened, `open size ${size}`);
      assert.is(opened.token, 0xabcdef01);
      assert.is(opened.sequence, seq);
      assert.is(opened.timestamp, 48000n + seq);
      assert.equal(opened.payload, payload);
      assert.is(dg.subarray(HEADER_BYTES, HEADER_BYTES + size).equals(payload) && size > 0, false, 'payload is encrypted');
    }
  });

  test(`[${backend}] matches an independent node:crypto construction (nonce = token||sequence)`, () => {
    const c = new VoiceCipher(KEY, { backend });
    const cases: Array<[number, bigint, bigint, number]> = [
      [0, 0n, 0n, 0],
      [1, 1n, 960n, 3],
      [0x11223344, 2n ** 32n + 7n, 2n ** 40n, 120],
      [0xffffffff, 2n ** 64n - 1n, 2n ** 64n - 1n, 200],
    ];
    for (const [token, seq, ts, size] of cases) {
      const payload = randomBytes(size);
      const expected = referenceSeal(KEY, token, seq, ts, payload);
      assert.is(c.seal(token, seq, ts, payload).toString('hex'), expected.toString('hex'));
      if (seq <= BigInt(Number.MAX_SAFE_INTEGER)) {
        assert.is(c.seal(token, Number(seq), Number(ts), payload).toString('hex'), expected.toString('hex'), 'number path');
      }
    }
    // A different nonce layout (sequence low bytes first) must not match, so the check above means something.
    const payload = randomBytes(32);
    const ours = c.seal(7, 9n, 0n, payload);
    const swapped = Buffer.alloc(12);
    swapped.writeBigUInt64BE(9n, 0);
    swapped.writeUInt32BE(7, 8);
    const alt = createCipheriv('chacha20-poly1305', KEY, swapped, { authTagLength: 16 });
    alt.setAAD(ours.subarray(0, 20), { plaintextLength: 32 });
    assert.is.not(Buffer.concat([alt.update(payload), alt.final()]).toString('hex'), ours.subarray(20, 52).toString('hex'));
  });

  test(`[${backend}] tampering any single byte fails open()`, () => {
    const c = new VoiceCipher(KEY, { backend });
    const dg = c.seal(0x01020304, 77n, 12345n, randomBytes(120));
    for (let i = 0; i < dg.length; i++) {
      for (const flip of [0x01, 0x80]) {
        const bad = Buffer.from(dg);
        bad[i]! ^= flip;
        assert.is(c.open(bad), null, `byte ${i} ^ ${flip}`);
      }
    }
    assert.ok(c.open(dg), 'original still opens');
  });

  test(`[${backend}] truncated, extended, empty, garbage and oversize datagrams return null`, () => {
    const c = new VoiceCipher(KEY, { backend });
    const dg = c.seal(5, 1n, 2n, randomBytes(40));
    for (let n = 0; n < dg.length; n++) assert.is(c.open(dg.subarray(0, n)), null, `prefix ${n}`);
    assert.is(c.open(Buffer.concat([dg, Buffer.from([0])])), null, 'trailing byte');
    assert.is(c.open(new Uint8Array(0)), null);
    assert.is(c.open(Buffer.alloc(HEADER_BYTES + TAG_BYTES)), null, 'all-zero minimum datagram');
    for (let i = 0; i < 500; i++) {
      const garbage = randomBytes(Math.floor(Math.random() * (MAX_DATAGRAM_BYTES + 64)));
      assert.is(c.open(garbage), null);
    }
    // Authentic but one byte over the Opus limit: rejected on size alone.
    const oversize = referenceSeal(KEY, 5, 3n, 0n, randomBytes(MAX_PAYLOAD_BYTES + 1));
    assert.is(oversize.length, MAX_DATAGRAM_BYTES + 1);
    assert.is(c.open(oversize), null);
  });

  test(`[${backend}] wrong key and wrong direction fail`, () => {
    const keys = deriveVoiceKeys(randomBytes(32));
    const c2s = new VoiceCipher(keys.clientToServer, { backend });
    const s2c = new VoiceCipher(keys.serverToClient, { backend });
    const dg = c2s.seal(9, 0n, 0n, randomBytes(60));
    assert.ok(c2s.open(dg));
    assert.is(s2c.open(dg), null, 'server->client key must not open client->server packets');
    assert.is(new VoiceCipher(OTHER_KEY, { backend }).open(dg), null);
    const keepalive = c2s.seal(9, 1n, 0n, new Uint8Array(0));
    assert.is(keepalive.length, HEADER_BYTES + TAG_BYTES);
    assert.is(s2c.open(keepalive), null);
    const ka = c2s.open(keepalive);
    assert.ok(ka);
    assert.is(ka.payload.length, 0);
  });

  test(`[${backend}] seal into caller buffer, zero-copy payload, open into out / in place`, () => {
    const c = new VoiceCipher(KEY, { backend });
    const payload = randomBytes(120);
    const expected = referenceSeal(KEY, 3, 10n, 20n, payload);

    const out = Buffer.alloc(MAX_DATAGRAM_BYTES, 0x55);
    const dg = c.seal(3, 10n, 20n, payload, out);
    assert.is(dg.buffer, out.buffer);
    assert.is(dg.byteOffset, out.byteOffset);
    assert.is(dg.length, expected.length);
    assert.equal(dg, expected);

    // Payload already framed inside the output buffer.
    const framed = Buffer.alloc(MAX_DATAGRAM_BYTES);
    payload.copy(framed, HEADER_BYTES);
    assert.equal(c.seal(3, 10n, 20n, framed.subarray(HEADER_BYTES, HEADER_BYTES + 120), framed), expected);

    // Exact-size output buffer is returned as-is.
    const exact = Buffer.alloc(expected.length);
    assert.is(c.seal(3, 10n, 20n, payload, exact), exact);

    const scratch = Buffer.alloc(MAX_PAYLOAD_BYTES);
    const opened = c.open(expected, scratch);
    assert.ok(opened);
    assert.is(opened.payload.buffer, scratch.buffer);
    assert.equal(opened.payload, payload);
    assert.is(c.open(expected, Buffer.alloc(119)), null, 'too-small out');

    const inPlace = Buffer.from(expected);
    const ip = c.open(inPlace, inPlace.subarray(HEADER_BYTES));
    assert.ok(ip);
    assert.equal(ip.payload, payload);
    assert.is(ip.payload.byteOffset, inPlace.byteOffset + HEADER_BYTES);
    assert.is(ip.sequence, 10n);

    // A failed in-place open must not hand out anything.
    const forged = Buffer.from(expected);
    forged[forged.length - 1]! ^= 1;
    assert.is(c.open(forged, forged.subarray(HEADER_BYTES)), null);

    // Non-Buffer Uint8Array input.
    const u8 = new Uint8Array(expected);
    assert.equal(c.open(u8)?.payload, payload);
  });

  test(`[${backend}] seal rejects programmer errors`, () => {
    const c = new VoiceCipher(KEY, { backend });
    assert.throws(() => c.seal(1, 0n, 0n, new Uint8Array(MAX_PAYLOAD_BYTES + 1)), RangeError);
    assert.throws(() => c.seal(1, 0n, 0n, new Uint8Array(10), Buffer.alloc(45)), RangeError);
    assert.throws(() => c.seal(-1, 0n, 0n, new Uint8Array(10)), RangeError);
    assert.throws(() => c.seal(1, 2n ** 64n, 0n, new Uint8Array(10)), RangeError);
    assert.throws(() => c.seal(1, 2 ** 53, 0, new Uint8Array(10)), RangeError);
  });
}

test('node and noble produce byte-identical datagrams and cross-decrypt', () => {
  const node = new VoiceCipher(KEY, { backend: 'node' });
  const noble = new VoiceCipher(KEY, { backend: 'noble' });
  for (let i = 0; i < 200; i++) {
    const payload = randomBytes(Math.floor(Math.random() * (MAX_PAYLOAD_BYTES + 1)));
    const token = randomBytes(4).readUInt32BE(0);
    const seq = randomBytes(8).readBigUInt64BE(0);
    const ts = randomBytes(8).readBigUInt64BE(0);
    const a = node.seal(token, seq, ts, payload);
    const b = noble.seal(token, seq, ts, payload);
    assert.is(a.toString('hex'), b.toString('hex'));
    assert.equal(noble.open(a)?.payload, payload);
    assert.equal(node.open(b)?.payload, payload);
  }
});

test('constructor validation', () => {
  assert.throws(() => new VoiceCipher(randomBytes(16)), RangeError);
  assert.throws(() => new VoiceCipher(KEY, { backend: 'openssl' as VoiceBackend }), TypeError);
  // The key is copied: mutating the caller's buffer afterwards changes nothing.
  for (const backend of BACKENDS) {
    const k = Buffer.from(KEY);
    const c = new VoiceCipher(k, { backend });
    k.fill(0);
    const payload = randomBytes(10);
    assert.equal(c.seal(1, 1n, 1n, payload), referenceSeal(KEY, 1, 1n, 1n, payload));
  }
});

test('sealEncoded (fan-out path) equals seal for the same header, into a buffer at an offset; openPayload matches open', () => {
  for (const backend of BACKENDS) {
    const c = new VoiceCipher(KEY, { backend });
    const payload = randomBytes(120);
    const whole = c.seal(0xdeadbeef, 77n, 960n * 77n, payload);
    const header = whole.subarray(0, 20);
    assert.equal(c.sealEncoded(header, payload), whole, `${backend}: same bytes`);
    const out = Buffer.alloc(5 + whole.length);
    c.sealEncoded(header, payload, out, 5);
    assert.equal(out.subarray(5), whole, `${backend}: at an offset`);
    assert.equal(c.openPayload(whole), payload, `${backend}: openPayload`);
    const bad = Buffer.from(whole);
    bad[3]! ^= 1;
    assert.is(c.openPayload(bad), null, `${backend}: tampered header refused`);
    assert.throws(() => c.sealEncoded(header.subarray(0, 19), payload), RangeError);
  }
});

test.run();
