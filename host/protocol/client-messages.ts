// Schemas of every message a client may send. Each inbound JSON message is
// checked here before any handler sees it; a handler receives a typed value.
// Objects are strict: an unknown field is an error, so typos surface at once.
import { z } from 'zod';
import { ROLES } from './roles.js';

const id = z.union([z.number().int().min(0).max(2 ** 32 - 1), z.string().min(1).max(64)]).optional();
const channelId = z.number().int().positive();
const sessionId = z.number().int().positive();
const userId = z.number().int().positive();
const role = z.enum(ROLES);
/** Most speakers one voice.report may describe. */
export const MAX_VOICE_REPORT_SPEAKERS = 64;
/** Hard schema caps; the configurable (smaller) limits are checked by handlers. */
const HARD_TEXT = 20_000;

export const USERNAME_RE = /^[\p{L}\p{N}_.\-]{2,32}$/u;
const username = z.string().regex(USERNAME_RE, '2-32 letters, digits, "_", "." or "-"');
const password = z.string().min(1).max(1024);
const channelName = z.string().trim().min(1).max(200);
const reason = z.string().max(500).default('');
const durationSeconds = z.number().int().positive().max(100 * 365 * 24 * 3600).optional();

const msg = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), id, ...shape }).strict();

export const ClientMessages = {
  ping: msg('ping', { time: z.number().optional() }),
  login: msg('login', { username: z.string().min(1).max(64), password }),
  register: msg('register', {
    username,
    password,
    invite: z.string().max(200).optional(),
    bootstrapToken: z.string().max(200).optional(),
  }),
  'account.changePassword': msg('account.changePassword', { oldPassword: password, newPassword: password }),
  'channel.create': msg('channel.create', {
    parentId: channelId,
    name: channelName,
    isVoice: z.boolean().default(true),
    requiredRole: role.default('guest'),
    description: z.string().max(5000).default(''),
    position: z.number().int().min(0).optional(),
  }),
  'channel.edit': msg('channel.edit', {
    channelId,
    name: channelName.optional(),
    isVoice: z.boolean().optional(),
    requiredRole: role.optional(),
    description: z.string().max(5000).optional(),
  }),
  'channel.move': msg('channel.move', { channelId, parentId: channelId, position: z.number().int().min(0).optional() }),
  'channel.delete': msg('channel.delete', { channelId }),
  'channel.join': msg('channel.join', { channelId }),
  'presence.set': msg('presence.set', { selfMute: z.boolean().optional(), selfDeaf: z.boolean().optional() }),
  'chat.send': msg('chat.send', { channelId, text: z.string().min(1).max(HARD_TEXT) }),
  'chat.direct': msg('chat.direct', { userId, text: z.string().min(1).max(HARD_TEXT) }),
  'chat.history': msg('chat.history', {
    channelId,
    beforeId: z.number().int().positive().optional(),
    limit: z.number().int().min(1).max(200).default(50),
  }),
  'user.list': msg('user.list', {}),
  'user.kick': msg('user.kick', { sessionId, reason }),
  'user.setRole': msg('user.setRole', { userId, role }),
  'user.serverMute': msg('user.serverMute', { sessionId, muted: z.boolean() }),
  'ban.add': msg('ban.add', {
    sessionId: sessionId.optional(),
    userId: userId.optional(),
    ip: z.union([z.ipv4(), z.ipv6()]).optional(),
    reason,
    durationSeconds,
  }),
  'ban.list': msg('ban.list', { includeExpired: z.boolean().default(false) }),
  'ban.remove': msg('ban.remove', { banId: z.number().int().positive() }),
  'plugin.list': msg('plugin.list', {}),
  // A listener's reception of each speaker it hears, for the speakers' encoders
  // (docs/PROTOCOL.md 12.5). Bounded: 64 entries fit any sensible channel.
  'voice.report': msg('voice.report', {
    speakers: z
      .array(
        z
          .object({
            sessionId,
            lossPercent: z.number().min(0).max(100),
            jitterMs: z.number().min(0).max(10_000),
          })
          .strict(),
      )
      .max(MAX_VOICE_REPORT_SPEAKERS),
  }),
  'invite.create': msg('invite.create', {
    role: role.default('member'),
    uses: z.number().int().min(1).max(1000).default(1),
    durationSeconds,
  }),
} as const;

export type ClientMessageType = keyof typeof ClientMessages;
export type ClientMessage<T extends ClientMessageType = ClientMessageType> = z.infer<(typeof ClientMessages)[T]>;

/** Message types accepted before login. */
export const PRE_AUTH_TYPES: ReadonlySet<string> = new Set(['ping', 'login', 'register']);

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: 'INVALID_MESSAGE' | 'UNKNOWN_TYPE'; message: string; id?: unknown; details?: Record<string, unknown> };

export function parseClientMessage(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'INVALID_MESSAGE', message: 'a message must be a JSON object' };
  }
  const rec = value as Record<string, unknown>;
  const replyId = typeof rec.id === 'number' || typeof rec.id === 'string' ? rec.id : undefined;
  if (typeof rec.type !== 'string') {
    return { ok: false, code: 'INVALID_MESSAGE', message: 'missing string field "type"', id: replyId };
  }
  if (!Object.hasOwn(ClientMessages, rec.type)) {
    return { ok: false, code: 'UNKNOWN_TYPE', message: `unknown message type "${rec.type.slice(0, 64)}"`, id: replyId };
  }
  const schema = ClientMessages[rec.type as ClientMessageType];
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message }));
    return {
      ok: false,
      code: 'INVALID_MESSAGE',
      message: `invalid ${rec.type}: ${issues.map((i) => `${i.path || '(message)'}: ${i.message}`).join('; ')}`,
      id: replyId,
      details: { issues },
    };
  }
  return { ok: true, message: result.data as ClientMessage };
}
