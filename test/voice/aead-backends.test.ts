// The AEAD implementations behind the voice lane against the published
// ChaCha20-Poly1305 vector (RFC 8439 §2.8.2, the IETF construction with a
// 96-bit nonce that docs/PROTOCOL.md 12.4 uses), and the server's native
// fan-out seal (native/sendmmsg, OpenSSL inside Node) against the project's
// own vectors (test/voice/vectors.json) and against every JS backend.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { nativeFanout } from '../../host/server/voice/native-fanout.js';
import { DEFAULT_VOICE_BACKEND, HEADER_BYTES, TAG_BYTES, VOICE_BACKENDS, VoiceCipher, deriveVoiceKeys, voiceBackendAvailable } from '../../host/voice/packet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 8439 §2.8.2 (AEAD_CHACHA20_POLY1305 test vector).
const RFC = {
  key: Buffer.from(Array.from({ length: 32 }, (_, i) => 0x80 + i)),
  nonce: hex('07000000 4041424344454647'),
  aad: hex('50515253 c0c1c2c3c4c5c6c7'),
  plaintext: Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."),
  ciphertext: hex(`
    d31a8d34648e60db7b86afbc53ef7ec2 a4aded51296e08fea9e2b5a736ee62d6
    3dbea45e8ca9671282fafb69da92728b 1a71de0a9e060b2905d6a5b67ecd3b36
    92ddbd7f2d778b8c9803aee328091b58 fab324e4fad675945585808b4831d7bc
    3ff4def08e4b7a9de576d26586cec64b 6116`),
  tag: hex('1ae10b594f09e26a7e902ecbd0600691'),
};
const RFC_SEALED = Buffer.concat([RFC.ciphertext, RFC.tag]);

interface Sodium {
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
}
let sodium: Sodium | null = null;
try {
  sodium = createRequire(import.meta.url)('sodium-native') as Sodium;
} catch {
  sodium = null;
}

test('RFC 8439 2.8.2 [node:crypto]', () => {
  const c = createCipheriv('chacha20-poly1305', RFC.key, RFC.nonce, { authTagLength: TAG_BYTES });
  c.setAAD(RFC.aad, { plaintextLength: RFC.plaintext.length });
  const ct = Buffer.concat([c.update(RFC.plaintext), c.final()]);
  assert.is(Buffer.concat([ct, c.getAuthTag()]).toString('hex'), RFC_SEALED.toString('hex'));
  const d = createDecipheriv('chacha20-poly1305', RFC.key, RFC.nonce, { authTagLength: TAG_BYTES });
  d.setAAD(RFC.aad, { plaintextLength: RFC.ciphertext.length });
  d.setAuthTag(RFC.tag);
  assert.is(Buffer.concat([d.update(RFC.ciphertext), d.final()]).toString(), RFC.plaintext.toString());
});

test('RFC 8439 2.8.2 [@noble/ciphers]', () => {
  const sealed = chacha20poly1305(RFC.key, RFC.nonce, RFC.aad).encrypt(RFC.plaintext);
  assert.is(Buffer.from(sealed).toString('hex'), RFC_SEALED.toString('hex'));
  assert.is(Buffer.from(chacha20poly1305(RFC.key, RFC.nonce, RFC.aad).decrypt(RFC_SEALED)).toString(), RFC.plaintext.toString());
});

test('RFC 8439 2.8.2 [sodium-native]', () => {
  // sodium-native is a dependency: it must load here (it ships prebuilt binaries).
  assert.ok(sodium, 'sodium-native does not load');
  assert.ok(voiceBackendAvailable('sodium'));
  assert.is(DEFAULT_VOICE_BACKEND, 'sodium');
  const out = Buffer.alloc(RFC_SEALED.length);
  sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out, RFC.plaintext, RFC.aad, null, RFC.nonce, RFC.key);
  assert.is(out.toString('hex'), RFC_SEALED.toString('hex'));
  const pt = Buffer.alloc(RFC.plaintext.length);
  sodium.crypto_aead_chacha20poly1305_ietf_decrypt(pt, null, RFC_SEALED, RFC.aad, RFC.nonce, RFC.key);
  assert.is(pt.toString(), RFC.plaintext.toString());
  const bad = Buffer.from(RFC_SEALED);
  bad[0]! ^= 1;
  assert.throws(() => sodium!.crypto_aead_chacha20poly1305_ietf_decrypt(pt, null, bad, RFC.aad, RFC.nonce, RFC.key));
});

interface Vector {
  name: string;
  secret: string;
  direction: 'client->server' | 'server->client';
  plaintext: string;
  datagram: string;
}
const candidates = [new URL('../../../test/voice/vectors.json', import.meta.url), new URL('./vectors.json', import.meta.url)];
const file = candidates.find((u) => existsSync(u));
if (file === undefined) throw new Error('test/voice/vectors.json not found');
const { vectors } = JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] };

test('native fan-out seal: the addon is built here', () => {
  // Linux with node-gyp: npm install builds it (package.json allowScripts). Without it the lane falls back to dgram.
  assert.ok(nativeFanout, 'native/sendmmsg is not built (npm install, or node-gyp rebuild in native/sendmmsg)');
});

test('native fan-out seal reproduces every vector, several copies in one call', () => {
  if (nativeFanout === null) return;
  for (const v of vectors) {
    const keys = deriveVoiceKeys(hex(v.secret));
    const key = v.direction === 'client->server' ? keys.clientToServer : keys.serverToClient;
    const dg = hex(v.datagram);
    // Slot 3 holds the vector's key; slots 0..2 other keys that must not be used.
    const table = Buffer.concat([randomBytes(96), key]);
    const out = Buffer.alloc(3 * dg.length);
    nativeFanout.seal(table, Uint32Array.of(3, 3, 3), 3, dg.subarray(0, HEADER_BYTES), hex(v.plaintext), out);
    for (let i = 0; i < 3; i++) assert.is(out.subarray(i * dg.length, (i + 1) * dg.length).toString('hex'), v.datagram, `${v.name} copy ${i}`);
  }
});

test('native fan-out seal = every JS backend, each copy under its own key, payload sizes 0..1275', () => {
  if (nativeFanout === null) return;
  const n = 7;
  const table = randomBytes(32 * n);
  const backends = VOICE_BACKENDS.filter(voiceBackendAvailable);
  for (const plen of [0, 1, 63, 64, 120, 1000, 1275]) {
    const header = randomBytes(HEADER_BYTES);
    const payload = randomBytes(plen);
    const size = HEADER_BYTES + plen + TAG_BYTES;
    const out = Buffer.alloc(n * size);
    const slots = Uint32Array.from({ length: n }, (_, i) => n - 1 - i);
    nativeFanout.seal(table, slots, n, header, payload, out);
    for (let i = 0; i < n; i++) {
      const key = table.subarray(slots[i]! * 32, slots[i]! * 32 + 32);
      for (const b of backends) {
        const expected = new VoiceCipher(key, { backend: b }).sealEncoded(header, payload);
        assert.is(out.subarray(i * size, (i + 1) * size).toString('hex'), expected.toString('hex'), `${b}, ${plen} bytes, copy ${i}`);
      }
    }
  }
});

test('native fan-out seal refuses slots outside the key table and short outputs', () => {
  if (nativeFanout === null) return;
  const header = randomBytes(HEADER_BYTES);
  assert.throws(() => nativeFanout!.seal(randomBytes(64), Uint32Array.of(2), 1, header, randomBytes(10), Buffer.alloc(100)));
  assert.throws(() => nativeFanout!.seal(randomBytes(64), Uint32Array.of(0, 1), 2, header, randomBytes(10), Buffer.alloc(50)));
  assert.throws(() => nativeFanout!.seal(randomBytes(64), Uint32Array.of(0), 1, randomBytes(12), randomBytes(10), Buffer.alloc(100)));
});

test.run();
