// A seal worker (voice.sealWorkers > 0, see seal-pool.ts): holds copies of the
// listeners' server→client keys and seals one speaker packet for a list of
// listeners, returning all datagrams in one transferable buffer. Messages are
// handled strictly in arrival order, so a key added before a packet was posted
// is known when the packet is sealed, and results go back in posting order.
import { parentPort } from 'node:worker_threads';
import { HEADER_BYTES, TAG_BYTES, VoiceCipher } from '../../voice/packet.js';
import type { SealRequest, SealResult, WorkerMessage } from './seal-pool.js';

const port = parentPort;
if (port === null) throw new Error('seal-worker must run as a worker thread');

const ciphers = new Map<number, VoiceCipher>();

function seal(req: SealRequest): SealResult {
  const data = Buffer.from(req.data);
  const header = data.subarray(0, HEADER_BYTES);
  const payload = data.subarray(HEADER_BYTES);
  const tokens = new Uint32Array(req.tokens);
  const size = HEADER_BYTES + payload.length + TAG_BYTES;
  const out = Buffer.from(new ArrayBuffer(size * tokens.length));
  const sealed = new Uint8Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const c = ciphers.get(tokens[i]!);
    // A listener whose session ended after the packet was posted: skipped.
    if (c === undefined) continue;
    c.sealEncoded(header, payload, out, i * size);
    sealed[i] = 1;
  }
  return { type: 'sealed', id: req.id, buf: out.buffer as ArrayBuffer, size, sealed };
}

port.on('message', (m: WorkerMessage) => {
  switch (m.type) {
    case 'key':
      ciphers.set(m.token, new VoiceCipher(m.key, { backend: m.backend }));
      break;
    case 'drop':
      ciphers.delete(m.token);
      break;
    case 'seal': {
      const r = seal(m);
      port.postMessage(r, [r.buf]);
      break;
    }
  }
});
