// Shapes of what the server sends. These are types only: the server builds
// them, the client library and tests read them.
import type { Role } from './roles.js';
import type { ErrorCode } from './errors.js';

export interface ChannelView {
  id: number;
  parentId: number | null;
  name: string;
  isVoice: boolean;
  requiredRole: Role;
  position: number;
  description: string;
}

export interface UserView {
  sessionId: number;
  userId: number;
  username: string;
  role: Role;
  channelId: number;
  selfMute: boolean;
  selfDeaf: boolean;
  serverMute: boolean;
  /** Voice-lane token of the session: lets listeners map relayed packets to the speaker. */
  voiceToken?: number;
}

export interface ChatMessageView {
  id: number;
  channelId: number | null;
  recipientId: number | null;
  senderId: number | null;
  senderName: string;
  text: string;
  createdAt: number;
  /** Set on a message posted by a plugin's bot: that plugin's id (senderId is null, senderName the plugin's name). */
  bot?: string;
}

export interface BanView {
  id: number;
  userId: number | null;
  username: string | null;
  ip: string | null;
  reason: string;
  expiresAt: number | null;
  bannedByName: string;
  createdAt: number;
}

export interface SelfView {
  sessionId: number;
  userId: number;
  username: string;
  role: Role;
}

export interface StateSnapshot {
  self: SelfView;
  channels: ChannelView[];
  users: UserView[];
}

/** Voice-lane credentials of a session, sent once over TLS at login. */
export interface VoiceSetup {
  /** Public id of this session on the voice lane (u32). */
  token: number;
  /** 32 random bytes, base64: the input of the per-direction key derivation. */
  secret: string;
  udpPort: number;
  keepaliveMs: number;
}

/**
 * What a speaker's listeners measure, aggregated by the server (voice.feedback,
 * docs/PROTOCOL.md 12.5): the speaker's Opus encoder sets its expected packet
 * loss (and so its in-band FEC) from it.
 */
export interface VoiceFeedback {
  /** Worst listener's packet loss (0..100), the worst tenth left out from 10 listeners up. */
  lossPercent: number;
  /** Same rule, for the listeners' jitter (ms). */
  jitterMs: number;
  /** How many listeners' reports this is made of (0: none; use your defaults). */
  listeners: number;
}

export interface WelcomeResult extends StateSnapshot {
  server: { name: string; version: string; welcomeText: string; protocol: number };
  voice?: VoiceSetup;
}

export type ServerMessage =
  | { type: 'reply'; id: number | string; ok: true; result: unknown }
  | { type: 'error'; id?: number | string; code: ErrorCode; message: string; details?: Record<string, unknown> }
  | ({ type: 'state' } & StateSnapshot)
  | { type: 'channel.upsert'; channel: ChannelView }
  | { type: 'user.upsert'; user: UserView }
  | { type: 'user.remove'; sessionId: number; reason: string }
  | { type: 'chat.message'; message: ChatMessageView }
  | { type: 'chat.history'; channelId: number; messages: ChatMessageView[] }
  | { type: 'disconnect'; code: ErrorCode; message: string; reason?: string; expiresAt?: number | null }
  | ({ type: 'voice.feedback' } & VoiceFeedback);

export const PROTOCOL_VERSION = 1;
