// Builds the published snapshot from what the core holds: the control lane's
// mirror of the server state, the audio engine's newest report and the local
// settings. A pure function of its input, so it is easy to test.
import type { ChatMessageView } from '../../protocol/server-messages.js';
import type { ControlClient } from '../control/control-client.js';
import type { EngineReport, EngineSettings, GuestReport } from '../audio/engine-protocol.js';
import type { ClientError, ClientPluginView, ClientSnapshot, SpeakerSnapshot, UserSnapshot } from './snapshot.js';

export interface CoreView {
  conn: ClientSnapshot['connection'];
  control: ControlClient | null;
  chat: ChatMessageView[];
  engine: EngineReport | null;
  settings: EngineSettings;
  pttDown: boolean;
  userMix: Record<string, { volume: number; muted: boolean; pan: number }>;
  errors: ClientError[];
  requests: ClientSnapshot['requests'];
  listenerLossPercent: number;
  /** Every voice token seen with its user: a speaker who left is still named in the stats. */
  tokenNames: Map<number, { sessionId: number; username: string }>;
  /** The sound cards, once listed (devices.list). */
  available: ClientSnapshot['audio']['available'];
  servers: ClientSnapshot['servers'];
  layout: ClientSnapshot['layout'];
  pttKey: string;
  quitting: boolean;
  /** The client audio plugins (client-plugins.ts), described with the chain's newest figures. */
  clientPlugins: { view(reports: GuestReport[]): ClientPluginView[] } | null;
}

export function buildSnapshot(v: CoreView): ClientSnapshot {
  const r = v.engine;
  const state = v.control?.state;
  const self = state?.self ?? null;
  const byToken = v.tokenNames;
  for (const u of state?.users.values() ?? []) if (u.voiceToken !== undefined) byToken.set(u.voiceToken, { sessionId: u.sessionId, username: u.username });
  const speakers: SpeakerSnapshot[] = (r?.speakers ?? []).map((s) => ({ ...s, sessionId: byToken.get(s.token)?.sessionId ?? null, username: byToken.get(s.token)?.username ?? null }));
  const speakingIds = new Set<number>();
  const levels = new Map<number, number>();
  for (const s of speakers) {
    if (s.sessionId === null) continue;
    levels.set(s.sessionId, s.levelDb);
    if (s.speaking) speakingIds.add(s.sessionId);
  }
  if (self && r?.input.transmitting) speakingIds.add(self.sessionId);
  const users: UserSnapshot[] = [...(state?.users.values() ?? [])].map((u) => {
    const mix = v.userMix[u.username];
    return { ...u, speaking: speakingIds.has(u.sessionId), levelDb: levels.get(u.sessionId) ?? null, localMuted: mix?.muted ?? false, volume: mix?.volume ?? 1 };
  });
  let received = 0;
  let lost = 0;
  for (const s of speakers) {
    received += s.received;
    lost += s.lost;
  }
  return {
    connection: { ...v.conn },
    self,
    channels: [...(state?.channels.values() ?? [])].sort((a, b) => a.position - b.position || a.id - b.id),
    users,
    chat: v.chat.slice(),
    speaking: [...speakingIds],
    audio: {
      mode: v.settings.gate.mode,
      thresholdDb: v.settings.gate.thresholdDb,
      selfMute: v.settings.selfMute,
      selfDeaf: v.settings.deaf,
      pttDown: v.pttDown,
      transmitting: r?.input.transmitting ?? false,
      inputLevelDb: r?.input.levelDb ?? -120,
      inputPeakDb: r?.input.peakDb ?? -120,
      outputLevelDb: r?.output.levelDb ?? -120,
      outputVolume: v.settings.outputVolume,
      inputGainDb: v.settings.inputGainDb,
      loopback: v.settings.loopback,
      input: r?.input.device ?? null,
      output: r?.output.device ?? null,
      clock: { ticks: r?.clock.ticks ?? 0, lateFrames: r?.clock.lateFrames ?? 0, underruns: r?.clock.underruns ?? 0, maxLateMs: r?.clock.maxLateMs ?? 0 },
      cpu: r?.cpu ?? { captureUsP50: 0, captureUsP99: 0, playbackUsP50: 0, playbackUsP99: 0 },
      available: v.available,
    },
    voice: {
      mode: r?.transport?.mode ?? 'off',
      rttMs: r?.transport?.rttMs ?? null,
      lossPercent: received + lost ? (100 * lost) / (received + lost) : 0,
      listenerLossPercent: v.listenerLossPercent,
      sent: r?.transport?.sent ?? 0,
      received: r?.transport?.received ?? 0,
      speakers,
    },
    plugins: r?.chain?.guests ?? [],
    clientPlugins: v.clientPlugins?.view(r?.chain?.guests ?? []) ?? [],
    errors: v.errors.slice(),
    requests: { ...v.requests },
    servers: v.servers,
    layout: v.layout,
    pttKey: v.pttKey,
    quitting: v.quitting,
  };
}
