// The one master state of the client, as every reader sees it: an immutable
// snapshot, replaced (never mutated) on every change and published through a
// Latest cell. Plain JSON, so it crosses to a web page unchanged.
import type { ChannelView, ChatMessageView, SelfView, UserView } from '../../protocol/server-messages.js';
import type { AvailableDevice, DeviceStatus, GuestReport, SpeakerReport } from '../audio/engine-protocol.js';
import type { GateMode } from '../audio/gate.js';

export type ConnectionStatus = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'failed';

export interface ClientError {
  /** A protocol error code (AUTH_FAILED, BANNED, ...) or a client one (CERT_CHANGED, SERVER_UNREACHABLE, DEVICE_FAILED, ...). */
  code: string;
  message: string;
  at: number;
  details?: Record<string, unknown>;
}

export interface UserSnapshot extends UserView {
  speaking: boolean;
  levelDb: number | null;
  /** Local settings of this listener. */
  localMuted: boolean;
  volume: number;
}

export interface SpeakerSnapshot extends SpeakerReport {
  sessionId: number | null;
  username: string | null;
}

export interface ClientSnapshot {
  connection: {
    status: ConnectionStatus;
    server: { host: string; port: number; name: string | null } | null;
    username: string | null;
    fingerprint: string | null;
    /** Reconnect attempts since the connection was lost. */
    attempt: number;
    nextRetryAt: number | null;
    /** A certificate that needs the user's decision (first use without a pinned one is auto-pinned; a change is not). */
    certificate: { hostKey: string; pinned: string | null; offered: string; changed: boolean } | null;
    error: ClientError | null;
  };
  self: SelfView | null;
  channels: ChannelView[];
  users: UserSnapshot[];
  chat: ChatMessageView[];
  /** Session ids of the users speaking right now (self included while transmitting). */
  speaking: number[];
  audio: {
    mode: GateMode;
    thresholdDb: number;
    selfMute: boolean;
    selfDeaf: boolean;
    pttDown: boolean;
    transmitting: boolean;
    inputLevelDb: number;
    inputPeakDb: number;
    outputLevelDb: number;
    /** Master output volume (1 = unchanged, up to 2), as saved in settings.json. */
    outputVolume: number;
    /** Capture gain before the chain, dB. */
    inputGainDb: number;
    loopback: boolean;
    input: DeviceStatus | null;
    output: DeviceStatus | null;
    clock: { ticks: number; lateFrames: number; underruns: number; maxLateMs: number };
    cpu: { captureUsP50: number; captureUsP99: number; playbackUsP50: number; playbackUsP99: number };
    /** Sound cards to choose from (after a devices.list action); error when PortAudio is unavailable. */
    available: { inputs: AvailableDevice[]; outputs: AvailableDevice[]; error: string | null } | null;
  };
  voice: {
    mode: 'udp' | 'tcp' | 'off';
    rttMs: number | null;
    /** Loss this client measures over all speakers it hears. */
    lossPercent: number;
    /** What our listeners report about us (drives the encoder's expected loss). */
    listenerLossPercent: number;
    sent: number;
    received: number;
    speakers: SpeakerSnapshot[];
  };
  plugins: GuestReport[];
  /** The client audio plugins found (shipped, in <config>/plugins/, or given on the command line), with their grants and state. */
  clientPlugins: ClientPluginView[];
  /** Recent errors, newest last (bounded). */
  errors: ClientError[];
  /** Results of passed-through requests by tag. */
  requests: Record<string, { ok: boolean; result?: unknown; error?: ClientError }>;
  /** Saved servers (servers.json); passwords never leave the core, only whether one is stored. */
  servers: { list: SavedServerView[]; lastServerId: string | null };
  /** The layout plugin chosen in settings.json (null: the default one); `selections` counts layout.select actions (choosing the same one again restarts it). */
  layout: { active: string | null; selections: number };
  /** KeyboardEvent.code of the push-to-talk key (settings.json). */
  pttKey: string;
  /** The user asked to quit (the desktop runner is shutting down). */
  quitting: boolean;
}

/** Why a client plugin is (not) running: running/starting, or not granted, disabled, a fault. */
export type ClientPluginStatus = 'running' | 'starting' | 'not granted' | 'disabled' | 'fault';

export interface ClientPluginView {
  id: string;
  name: string;
  version: string;
  description: string;
  slot: 'aec' | 'ns' | 'effect';
  /** shipped: <package>/manifests; installed: <config>/plugins/<id>/; command line: --effect. */
  source: 'shipped' | 'installed' | 'command line';
  /** sha256 of the wasm (the key of its grant); null when it could not be read. */
  sha256: string | null;
  /** Capabilities the manifest asks for, and those granted to this exact wasm. */
  requested: string[];
  granted: string[];
  enabled: boolean;
  status: ClientPluginStatus;
  /** Why it is not running, in words (null while running). */
  reason: string | null;
  /** The chain thread's figures, while it is in the chain. */
  figures: { state: string; calls: number; overruns: number; bypassed: number; faults: number; lastUs: number; published: Record<string, number> } | null;
  /** The last refused action on it (an unknown capability in plugin.grant, ...). */
  error: string | null;
  /** Part of Hearth (the shipped echo canceller and noise suppressor): granted with the package; switched off, never revoked. */
  firstParty: boolean;
  /** Its settings a person can change (the manifest's number and boolean config properties) with their current values; `plugin.config` sets them. */
  settings: PluginSetting[];
}

export interface PluginSetting {
  key: string;
  type: 'number' | 'integer' | 'boolean';
  value: number | boolean;
  description: string;
  minimum?: number;
  maximum?: number;
}

export interface SavedServerView {
  id: string;
  label: string;
  host: string;
  port: number;
  username: string;
  hasPassword: boolean;
  /** The certificate fingerprint pinned for host:port (known_hosts.json), null when none is (the next connect asks). */
  pinnedFingerprint: string | null;
}

export function emptySnapshot(): ClientSnapshot {
  return {
    connection: { status: 'disconnected', server: null, username: null, fingerprint: null, attempt: 0, nextRetryAt: null, certificate: null, error: null },
    self: null,
    channels: [],
    users: [],
    chat: [],
    speaking: [],
    audio: {
      mode: 'vad',
      thresholdDb: -45,
      selfMute: false,
      selfDeaf: false,
      pttDown: false,
      transmitting: false,
      inputLevelDb: -120,
      inputPeakDb: -120,
      outputLevelDb: -120,
      outputVolume: 1,
      inputGainDb: 0,
      loopback: false,
      input: null,
      output: null,
      clock: { ticks: 0, lateFrames: 0, underruns: 0, maxLateMs: 0 },
      cpu: { captureUsP50: 0, captureUsP99: 0, playbackUsP50: 0, playbackUsP99: 0 },
      available: null,
    },
    voice: { mode: 'off', rttMs: null, lossPercent: 0, listenerLossPercent: 0, sent: 0, received: 0, speakers: [] },
    plugins: [],
    clientPlugins: [],
    errors: [],
    requests: {},
    servers: { list: [], lastServerId: null },
    layout: { active: null, selections: 0 },
    pttKey: 'Space',
    quitting: false,
  };
}
