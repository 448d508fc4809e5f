// A voice shard (voice.shards > 1; the main thread's side is shard-pool.ts):
// a worker thread running a whole VoiceLane (voice-lane.ts, with
// voice.shards = 1) on its own UDP port for the sessions assigned to it, so
// admission, the AEAD open, the replay window, path validation, the rate
// limit, keep-alive answers, the backlog probe and the UDP-silence judgement
// all work per shard exactly as in the single lane. What is added here:
// - relay: a packet that passed every check and has listeners on other
//   shards is written once into each such shard's ring (shard-ring.ts);
// - the consumer: packets from other shards' rings are sealed and sent to
//   this shard's listeners (Fanout.deliver);
// - the TLS side: frames for this shard's listeners on the TLS fallback (and
//   keep-alive answers over TLS) go to the main thread, which owns the TLS
//   connections, in one message per loop turn; tunnelled datagrams come in;
// - reports: the lane's counters every STATS_MS, and whose UDP state changed.
import { parentPort, workerData } from 'node:worker_threads';
import { HEADER_BYTES, MAX_DATAGRAM_BYTES } from '../../voice/packet.js';
import { shardLogger } from './shard-log.js';
import type { MainToShard, RelayCounters, ShardInit, ShardToMain } from './shard-messages.js';
import { ShardBell, ShardRing } from './shard-ring.js';
import { ShardRoutes } from './shard-routes.js';
import { emptyRelay } from './shard-stats.js';
import { VoiceLane } from './voice-lane.js';

const port = parentPort;
if (port === null) throw new Error('shard-worker must run as a worker thread');
const init = workerData as ShardInit;
const post = (m: ShardToMain, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

/** Counters go to main this often while traffic moves (once a second when idle). */
const STATS_MS = 200;
/** Records taken from one ring per turn before the loop looks at its socket again. */
const DRAIN_BATCH = 256;

const log = shardLogger(port, init.logLevel);
const relay: RelayCounters = emptyRelay();

// ---- TLS-bound frames: queued, and posted once per loop turn.
let tlsTokens: number[] = [];
let tlsFrames: Buffer[] = [];
let tlsBytes = 0;
function flushTls(): void {
  // One buffer for the whole batch, transferred: a Buffer from the pool would clone its whole 8 KiB slab.
  const buf = new ArrayBuffer(tlsBytes);
  const bytes = new Uint8Array(buf);
  const ends: number[] = [];
  let at = 0;
  for (const f of tlsFrames) {
    bytes.set(f, at);
    at += f.length;
    ends.push(at);
  }
  post({ type: 'tls', tokens: tlsTokens, ends, buf }, [buf]);
  relay.tlsFrames += tlsTokens.length;
  relay.tlsBatches++;
  tlsTokens = [];
  tlsFrames = [];
  tlsBytes = 0;
}
const routes = new ShardRoutes(init.index, (token, frame) => {
  if (tlsTokens.length === 0) setImmediate(flushTls);
  tlsTokens.push(token);
  tlsFrames.push(frame);
  tlsBytes += frame.length;
});

const lane = new VoiceLane(init.config, routes.hub, log);

// ---- rings: out[j] is what this shard writes for shard j; in[] what others wrote for it.
const out: (ShardRing | null)[] = [];
const bells: ShardBell[] = init.bells.map((b) => new ShardBell(b));
const incoming: ShardRing[] = [];
for (let j = 0; j < init.count; j++) {
  const w = init.rings[init.index]![j];
  out.push(w ? new ShardRing(w) : null);
  const r = init.rings[j]![init.index];
  if (r) {
    const ring = new ShardRing(r);
    // A shard started again after its predecessor died: what it left unread is stale.
    ring.discard();
    incoming.push(ring);
  }
}

lane.fanout.relay = (channelId, header, payload) => {
  let mask = routes.targets(channelId);
  if (mask === 0) return;
  const stamp = Date.now() >>> 0;
  while (mask !== 0) {
    const j = 31 - Math.clz32(mask);
    mask &= ~(1 << j);
    const ring = out[j];
    if (!ring) continue;
    if (ring.push(channelId, stamp, header, payload)) {
      relay.relayed++;
      bells[j]!.ring();
    } else relay.ringFull++;
  }
};

// Each record is copied out of the ring before it is sealed: the ring slot is
// free at once, and the crypto and the addon only ever see ordinary memory.
const scratch = Buffer.allocUnsafeSlow(MAX_DATAGRAM_BYTES);
const header = scratch.subarray(0, HEADER_BYTES);
function deliver(channelId: number, stamp: number, bytes: Uint8Array, offset: number, length: number): void {
  // Behind by more than a jitter buffer could use (this thread starved of CPU):
  // dropped, as the lane drops stale datagrams from its socket (backlog-probe.ts).
  if (((Date.now() >>> 0) - stamp) >>> 0 > lane.backlog.settings.staleMs) {
    relay.ringStale++;
    return;
  }
  (bytes as Buffer).copy(scratch, 0, offset, offset + length);
  relay.relayedIn++;
  lane.deliverRemote(channelId, header, scratch.subarray(HEADER_BYTES, length));
}

const idle = () => incoming.every((r) => r.isEmpty());
/** Runs until main terminates the thread. */
async function consume(): Promise<void> {
  const bell = bells[init.index]!;
  for (;;) {
    let n = 0;
    for (const r of incoming) n += r.drain(deliver, DRAIN_BATCH);
    // Let the socket in between batches; sleep only when every ring is empty.
    if (n > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    else await bell.sleep(idle);
  }
}

// ---- counters for main.
const lastUdp = new Map<number, boolean>();
let lastReceived = -1;
let lastForwarded = -1;
let quietTicks = 0;
function report(): void {
  const s = lane.stats;
  const transports: number[] = [];
  for (const [token, vs] of lane.voiceSessions) {
    if (lastUdp.get(token) !== vs.udpActive) {
      lastUdp.set(token, vs.udpActive);
      transports.push(token, vs.udpActive ? 1 : 0);
    }
  }
  for (const token of lastUdp.keys()) if (!lane.voiceSessions.has(token)) lastUdp.delete(token);
  const moved = s.received !== lastReceived || s.forwarded !== lastForwarded || transports.length > 0;
  if (!moved && ++quietTicks < 1000 / STATS_MS) return;
  quietTicks = 0;
  lastReceived = s.received;
  lastForwarded = s.forwarded;
  post({ type: 'stats', stats: s, relay, transports });
}

port.on('message', (m: MainToShard) => {
  switch (m.type) {
    case 'tunnel':
      lane.onDatagram(Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength), null, 0);
      break;
    case 'kernel':
      void lane.refreshKernelDrops().then(
        (kernel) => post({ type: 'kernel', id: m.id, kernel }),
        () => post({ type: 'kernel', id: m.id, kernel: { ...lane.stats.kernel } }),
      );
      break;
    case 'sync':
      post({ type: 'sync', id: m.id });
      break;
    case 'tune':
      if (m.useNative !== undefined) lane.fanout.useNative = m.useNative;
      if (m.staleMs !== undefined) lane.backlog.settings.staleMs = m.staleMs;
      break;
    default:
      routes.apply(m, lane);
  }
});

async function main(): Promise<void> {
  const udpPort = await lane.start(0);
  const timer = setInterval(report, STATS_MS);
  timer.unref();
  post({ type: 'ready', port: udpPort });
  await consume();
}

main().catch((err: unknown) => {
  // A bind failure (port in use) lands here: thrown out of the thread, main
  // gets it as the worker's 'error' event and logs it with the shard's port.
  setImmediate(() => {
    throw err;
  });
});
