// Small pieces of the network actor kept out of client-core.ts: the per-speaker
// loss report the client sends every second (voice.report, PROTOCOL.md §12.5),
// and turning a thrown error into the state's ClientError.
import { ServerError, type ControlClient } from '../control/control-client.js';
import type { EngineReport } from '../audio/engine-protocol.js';
import type { ClientError } from './snapshot.js';

/**
 * Tells the server what we measure about each speaker over the last report
 * interval, so their encoders can spend FEC where it is needed. `last` holds
 * each speaker's counters at the previous report (updated here).
 */
export function reportVoice(r: EngineReport, c: ControlClient, last: Map<number, { received: number; lost: number }>): void {
  if (c.closed) return;
  const byToken = new Map([...c.state.users.values()].filter((u) => u.voiceToken !== undefined).map((u) => [u.voiceToken!, u.sessionId]));
  const speakers: { sessionId: number; lossPercent: number; jitterMs: number }[] = [];
  for (const s of r.speakers) {
    const sessionId = byToken.get(s.token);
    const prev = last.get(s.token) ?? { received: 0, lost: 0 };
    last.set(s.token, { received: s.received, lost: s.lost });
    const received = s.received - prev.received;
    const lost = s.lost - prev.lost;
    if (sessionId === undefined || received + lost <= 0) continue;
    speakers.push({ sessionId, lossPercent: (100 * lost) / (received + lost), jitterMs: s.jitterMs });
  }
  if (speakers.length) c.reportVoice(speakers);
}

export function errorOf(err: unknown): ClientError {
  if (err instanceof ServerError) return { code: err.code, message: err.message.replace(/^[A-Z_]+: /, ''), at: Date.now(), ...(err.details ? { details: err.details } : {}) };
  return { code: 'CLIENT_ERROR', message: (err as Error).message ?? String(err), at: Date.now() };
}
