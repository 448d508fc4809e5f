import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { VOICE_BACKENDS, VoiceCipher, deriveVoiceKeys, readHeader, voiceBackendAvailable, type VoiceBackend } from '../../host/voice/packet.js';

interface Vector {
  name: string;
  description: string;
  secret: string;
  c2sKey: string;
  s2cKey: string;
  listenerToken?: number;
  direction: 'client->server' | 'server->client';
  token: number;
  sequence: string;
  timestamp: string;
  plaintext: string;
  nonce: string;
  datagram: string;
}

// Works from dist/test/voice/ (compiled) and from test/voice/ (ts runners).
const candidates = [new URL('../../../test/voice/vectors.json', import.meta.url), new URL('./vectors.json', import.meta.url)];
const file = candidates.find((u) => existsSync(u));
if (file === undefined) throw new Error('test/voice/vectors.json not found');
const { vectors } = JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] };

// Every backend that loads here: sodium (sodium-native), node (node:crypto), noble (@noble/ciphers).
const BACKENDS: readonly VoiceBackend[] = VOICE_BACKENDS.filter(voiceBackendAvailable);
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

test('vector set covers the required cases', () => {
  assert.ok(vectors.length >= 4);
  assert.ok(vectors.some((v) => v.plaintext === '' && v.direction === 'client->server'), 'c2s keep-alive');
  assert.ok(
    vectors.some((v) => v.direction === 'server->client' && v.listenerToken !== undefined && v.listenerToken !== v.token),
    'relay with speaker token != listener token',
  );
  assert.ok(vectors.some((v) => BigInt(v.sequence) > 2n ** 32n), 'sequence > 2^32');
  assert.ok(vectors.some((v) => BigInt(v.sequence) > 2n ** 53n), 'sequence > 2^53');
});

for (const v of vectors) {
  test(`${v.name}: key derivation and nonce layout`, () => {
    const keys = deriveVoiceKeys(hex(v.secret));
    assert.is(keys.clientToServer.toString('hex'), v.c2sKey);
    assert.is(keys.serverToClient.toString('hex'), v.s2cKey);
    // Nonce is the first 12 bytes of the datagram.
    assert.is(v.datagram.slice(0, 24), v.nonce);
    assert.equal(readHeader(hex(v.datagram)), {
      token: v.token,
      sequence: BigInt(v.sequence),
      timestamp: BigInt(v.timestamp),
    });
  });

  for (const backend of BACKENDS) {
    test(`${v.name} [${backend}]: seal reproduces, open decrypts, other direction rejects`, () => {
      const keys = deriveVoiceKeys(hex(v.secret));
      const [key, otherKey] =
        v.direction === 'client->server'
          ? [keys.clientToServer, keys.serverToClient]
          : [keys.serverToClient, keys.clientToServer];
      const c = new VoiceCipher(key, { backend });
      const sealed = c.seal(v.token, BigInt(v.sequence), BigInt(v.timestamp), hex(v.plaintext));
      assert.is(sealed.toString('hex'), v.datagram);

      const opened = c.open(hex(v.datagram));
      assert.ok(opened);
      assert.is(opened.token, v.token);
      assert.is(opened.sequence.toString(), v.sequence);
      assert.is(opened.timestamp.toString(), v.timestamp);
      assert.is(opened.payload.toString('hex'), v.plaintext);

      assert.is(new VoiceCipher(otherKey, { backend }).open(hex(v.datagram)), null);
    });
  }
}

test.run();
