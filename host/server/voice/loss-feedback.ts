// Listeners' voice.report messages turned into each speaker's voice.feedback
// (docs/PROTOCOL.md 12.5): the loss its encoder should plan for. Split out of
// voice-lane.ts, which keeps the datagram path.
import type { VoiceFeedback } from '../../protocol/server-messages.js';
import type { Connection, SessionInfo } from '../connection.js';
import type { Hub } from '../hub.js';
import { aggregateReports, type ListenerReport, type VoiceSession } from './voice-session.js';

/** One entry of a voice.report (schema: protocol/client-messages.ts). */
export interface SpeakerReport {
  sessionId: number;
  lossPercent: number;
  jitterMs: number;
}

const sameFeedback = (a: VoiceFeedback, b: VoiceFeedback) => a.lossPercent === b.lossPercent && a.jitterMs === b.jitterMs && a.listeners === b.listeners;

export class LossFeedback {
  /**
   * Reports older than reportMaxAgeMs no longer count; a speaker hears of a
   * change of at least lossStep points, jitterStepMs or a different listener
   * count after minIntervalMs, and of any smaller change after refreshMs, so
   * its encoder is not retuned on every wobble.
   */
  readonly timing = { reportMaxAgeMs: 10_000, minIntervalMs: 1000, refreshMs: 5000, lossStep: 1, jitterStepMs: 5 };

  constructor(
    private readonly byToken: ReadonlyMap<number, VoiceSession>,
    private readonly hub: Hub,
  ) {}

  /** Whether a session receives relayed voice at all (a report from one that does not is noise). */
  hears(l: VoiceSession): boolean {
    return !l.conn.session.selfDeaf && this.hub.tree.get(l.channelId)?.isVoice === true;
  }

  /**
   * A listener's voice.report. Entries about sessions it does not hear right
   * now (unknown, elsewhere, itself) are ignored without a trace, so the reply
   * reveals nothing about sessions it cannot see. False: over the rate (1/s).
   */
  report(conn: Connection & { session: SessionInfo }, speakers: readonly SpeakerReport[]): boolean {
    const listener = conn.session.voiceToken === undefined ? undefined : this.byToken.get(conn.session.voiceToken);
    if (!listener) return true;
    const now = Date.now();
    if (!listener.reportBucket.take(now)) return false;
    if (!this.hears(listener)) return true;
    const touched = new Set<VoiceSession>();
    for (const r of speakers) {
      const token = this.hub.session(r.sessionId)?.session.voiceToken;
      const speaker = token === undefined ? undefined : this.byToken.get(token);
      if (!speaker || speaker === listener || speaker.channelId !== listener.channelId) continue;
      speaker.heardBy.set(listener, { lossPercent: r.lossPercent, jitterMs: r.jitterMs, at: now });
      listener.reportedAbout.add(speaker);
      touched.add(speaker);
    }
    for (const speaker of touched) this.refresh(speaker, now);
    return true;
  }

  /** A session moved or (un)deafened: pairs can end both ways, so recount what it reported and what was reported about it. */
  changed(vs: VoiceSession): void {
    const now = Date.now();
    for (const speaker of [...vs.reportedAbout]) this.refresh(speaker, now);
    this.refresh(vs, now);
  }

  /** Drops everything a session said as a listener (it left, or its session ended). */
  forgetListener(l: VoiceSession): void {
    const speakers = [...l.reportedAbout];
    l.reportedAbout.clear();
    const now = Date.now();
    for (const speaker of speakers) {
      speaker.heardBy.delete(l);
      this.refresh(speaker, now);
    }
  }

  /** A session ended: it is nobody's listener and nobody's speaker any more. */
  detach(vs: VoiceSession): void {
    this.forgetListener(vs);
    for (const l of vs.heardBy.keys()) l.reportedAbout.delete(vs);
    vs.heardBy.clear();
  }

  /** Once a second: ages reports out and sends changes held back by timing.minIntervalMs. */
  sweep(vs: VoiceSession, now: number): void {
    if (vs.heardBy.size > 0 || (vs.lastFeedback !== null && vs.lastFeedback.listeners > 0)) this.refresh(vs, now);
  }

  /**
   * Recomputes a speaker's feedback from its current listeners' fresh reports
   * and sends voice.feedback if it changed enough (timing). What is not sent
   * now is retried by the sweep.
   */
  refresh(speaker: VoiceSession, now: number): void {
    if (this.byToken.get(speaker.token) !== speaker) return;
    const t = this.timing;
    const live: ListenerReport[] = [];
    for (const [l, r] of speaker.heardBy) {
      // Only listeners who still hear this speaker count; anything else is forgotten here.
      if (now - r.at > t.reportMaxAgeMs || this.byToken.get(l.token) !== l || l.channelId !== speaker.channelId || !this.hears(l)) {
        speaker.heardBy.delete(l);
        l.reportedAbout.delete(speaker);
      } else live.push(r);
    }
    const next = aggregateReports(live);
    const last = speaker.lastFeedback;
    if (last === null ? next.listeners === 0 : sameFeedback(last, next)) return;
    const meaningful =
      last === null ||
      next.listeners !== last.listeners ||
      Math.abs(next.lossPercent - last.lossPercent) >= t.lossStep ||
      Math.abs(next.jitterMs - last.jitterMs) >= t.jitterStepMs;
    if (last !== null && now - last.at < (meaningful ? t.minIntervalMs : t.refreshMs)) return;
    speaker.lastFeedback = { ...next, at: now };
    // Aggregates only: no listener's identity or individual figure is sent.
    speaker.conn.send({ type: 'voice.feedback', ...next });
  }
}
