// Main thread, voice.shards > 1: which shards hold listeners in which
// channel. The speaker's shard hands a packet only to shards that have at
// least one listener (a member of the channel who is not self-deafened) in
// its channel, so a shard with nobody there costs nothing per packet. Kept
// as per-shard counts per channel; every shard is told the bit mask of a
// channel when it changes (shard-routes.ts keeps it).
import type { VoiceSession } from './voice-session.js';

export class ListenerShards {
  /** Per channel, per shard: sessions there that listen. */
  private readonly counts = new Map<number, number[]>();
  /** Where each listening session is counted. */
  private readonly at = new Map<VoiceSession, { channelId: number; shard: number }>();

  constructor(
    private readonly shards: number,
    private readonly changed: (channelId: number, mask: number) => void,
  ) {}

  /** Counts `vs` (on `shard`) as listening in `channelId`, or nowhere (null). */
  set(vs: VoiceSession, shard: number, channelId: number | null): void {
    const before = this.at.get(vs);
    if (before !== undefined && before.channelId === channelId && before.shard === shard) return;
    if (before !== undefined) {
      this.at.delete(vs);
      this.add(before.channelId, before.shard, -1);
    }
    if (channelId !== null && shard >= 0) {
      this.at.set(vs, { channelId, shard });
      this.add(channelId, shard, +1);
    }
  }

  /** Bit i set: shard i has a listener in the channel. */
  mask(channelId: number): number {
    const counts = this.counts.get(channelId);
    let m = 0;
    if (counts) for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) m |= 1 << i;
    return m;
  }

  /** Every channel with listeners and its mask (for a shard that just started). */
  *masks(): Generator<[number, number]> {
    for (const channelId of this.counts.keys()) yield [channelId, this.mask(channelId)];
  }

  private add(channelId: number, shard: number, delta: number): void {
    let counts = this.counts.get(channelId);
    if (counts === undefined) this.counts.set(channelId, (counts = new Array<number>(this.shards).fill(0)));
    const was = this.mask(channelId);
    counts[shard]! += delta;
    const now = this.mask(channelId);
    if (now === 0) this.counts.delete(channelId);
    if (now !== was) this.changed(channelId, now);
  }
}
