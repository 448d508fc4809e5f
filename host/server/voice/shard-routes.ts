// Inside a voice shard: the replica of what the lane consults to pick
// listeners, fed by the main thread over the worker's (ordered) port
// (shard-messages.ts). A shard runs an unmodified VoiceLane (voice-lane.ts),
// so this file gives it what it would get from the real server: a hub whose
// tree answers "is this a voice channel" and whose presence listeners are
// called when main says a session moved or changed its flags, and per
// session a stand-in for its TLS connection (session flags; sendRaw, which
// queues a frame for the main thread to write; onClose, fired when main
// removes the session). Only this shard's own sessions are here: a shard
// never needs another shard's keys, it gets their packets already opened.
import type { Connection, SessionInfo } from '../connection.js';
import type { Hub } from '../hub.js';
import type { MainToShard, SessionFlags } from './shard-messages.js';
import type { VoiceLane } from './voice-lane.js';

type PresenceEvent = 'join' | 'update' | 'leave';
type Authed = Connection & { session: SessionInfo };

/** Where a shard's TLS-bound frames go (shard-worker.ts batches them to main). */
export type FrameSink = (token: number, frame: Buffer) => void;

/** Stands in for a session's TLS connection inside a shard. */
class ShardConn {
  readonly session: SessionInfo;
  onVoiceFrame: ((body: Buffer) => boolean | void) | null = null;
  private readonly closers: ((code: 'CLOSED') => void)[] = [];

  constructor(
    readonly token: number,
    sessionId: number,
    flags: SessionFlags,
    private readonly sink: FrameSink,
  ) {
    this.session = { sessionId, userId: 0, username: '', role: 'member', connectedAt: 0, voiceToken: token, ...flags };
  }

  sendRaw(frame: Buffer): void {
    this.sink(this.token, frame);
  }

  /** JSON messages (loss feedback) are main's business; a shard never has any. */
  send(): void {}

  onClose(fn: (code: 'CLOSED') => void): void {
    this.closers.push(fn);
  }

  close(): void {
    for (const fn of this.closers.splice(0)) fn('CLOSED');
  }
}

export class ShardRoutes {
  /** Channel ids that are voice channels, as main last said. */
  private voiceChannels = new Set<number>();
  /** Per channel, the shards with listeners there (bit i = shard i). */
  private readonly listenerShards = new Map<number, number>();
  private readonly conns = new Map<number, ShardConn>();
  private readonly presenceListeners: Array<(s: SessionInfo, event: PresenceEvent) => void> = [];
  private readonly voiceYes = { isVoice: true };
  private readonly voiceNo = { isVoice: false };
  /** What the lane takes for the server's hub (only the parts a lane reads). */
  readonly hub: Hub;

  constructor(
    private readonly self: number,
    private readonly sink: FrameSink,
  ) {
    const tree = { get: (id: number) => (this.voiceChannels.has(id) ? this.voiceYes : this.voiceNo) };
    this.hub = { tree, presenceListeners: this.presenceListeners, session: () => undefined } as unknown as Hub;
  }

  get sessions(): number {
    return this.conns.size;
  }

  /** The other shards to hand a packet in `channelId` to, as a bit mask (never this one). */
  targets(channelId: number): number {
    return (this.listenerShards.get(channelId) ?? 0) & ~(1 << this.self);
  }

  apply(m: MainToShard, lane: VoiceLane): void {
    switch (m.type) {
      case 'add': {
        const conn = new ShardConn(m.token, m.sessionId, m, this.sink);
        this.conns.set(m.token, conn);
        lane.cryptoBackend = m.backend;
        lane.adopt(conn as unknown as Authed, m.token, m.secret);
        break;
      }
      case 'presence': {
        const conn = this.conns.get(m.token);
        if (conn === undefined) return;
        const s = conn.session;
        s.channelId = m.channelId;
        s.selfMute = m.selfMute;
        s.selfDeaf = m.selfDeaf;
        s.serverMute = m.serverMute;
        for (const fn of this.presenceListeners) fn(s, m.event);
        break;
      }
      case 'remove': {
        const conn = this.conns.get(m.token);
        this.conns.delete(m.token);
        // The lane's onClose hook detaches it: its token stops resolving here at once.
        conn?.close();
        break;
      }
      case 'voiceChannels':
        this.voiceChannels = new Set(m.ids);
        break;
      case 'listeners':
        if (m.mask === 0) this.listenerShards.delete(m.channelId);
        else this.listenerShards.set(m.channelId, m.mask);
        break;
      default:
        break;
    }
  }
}
