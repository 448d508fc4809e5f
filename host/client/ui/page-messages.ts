// What a page may send over the UI socket (protocol.ts), as zod schemas: every
// message is validated before anything reaches the core. An invalid one is
// answered {"type":"refused"} and dropped.
import { z } from 'zod';
import type { ClientAction } from '../core/actions.js';

const str = (max = 200) => z.string().max(max);
const id = z.number().int().nonnegative();
const port = z.number().int().min(1).max(65535);
const text = z.string().min(1).max(5000);
const register = z.object({ invite: str(200).optional(), bootstrapToken: str(200).optional() }).strict();
const channel = z.union([z.string().min(1).max(100), id]);
const pluginId = z.string().regex(/^[a-z][a-z0-9-]{1,39}$/);
const deviceName = z.string().min(1).max(512).nullable().optional();
// The page chooses sound cards (or none); WAV and virtual devices are for the command line and tests.
const capture = z.discriminatedUnion('kind', [z.object({ kind: z.literal('portaudio'), name: deviceName }).strict(), z.object({ kind: z.literal('none') }).strict()]);
const playback = capture;

const a = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.object({ type: z.literal(type), ...shape }).strict();

export const ClientActionSchema = z.discriminatedUnion('type', [
  a('connect', {
    server: z.object({ host: z.string().min(1).max(255), port }).strict(),
    username: z.string().min(1).max(64),
    password: z.string().max(1024),
    fingerprint: str(200).optional(),
    register: register.optional(),
    channel: channel.optional(),
  }),
  a('disconnect', {}),
  a('trust.accept', { hostKey: str(300).min(1), fingerprint: str(200).min(1) }),
  a('trust.forget', { hostKey: str(300).min(1) }),
  a('join', { channelId: id }),
  a('chat.send', { channelId: id.optional(), text }),
  a('chat.direct', { userId: id, text }),
  a('self.mute', { on: z.boolean() }),
  a('self.deaf', { on: z.boolean() }),
  a('ptt', { down: z.boolean() }),
  a('voice.mode', { mode: z.enum(['vad', 'ptt', 'continuous']), thresholdDb: z.number().min(-100).max(0).optional(), hangoverMs: z.number().int().min(0).max(5000).optional() }),
  a('user.volume', { username: z.string().min(1).max(64), volume: z.number().min(0).max(4), pan: z.number().min(-1).max(1).optional() }),
  a('user.mute', { username: z.string().min(1).max(64), muted: z.boolean() }),
  a('output.volume', { volume: z.number().min(0).max(4) }),
  a('devices.select', { capture: capture.optional(), playback: playback.optional() }),
  a('devices.reopen', {}),
  a('devices.list', {}),
  a('loopback', { on: z.boolean() }),
  a('plugin.enable', { pluginId, on: z.boolean() }),
  a('plugin.config', { pluginId, config: z.record(z.string().max(64), z.unknown()) }),
  // Capability names are only shaped here: the core refuses (in the state) any the manifest does not ask for.
  a('plugin.grant', { pluginId, capabilities: z.array(z.string().regex(/^[a-z][a-z0-9._-]{0,63}$/)).max(64) }),
  a('plugin.revoke', { pluginId }),
  a('request', { method: z.string().regex(/^[a-z][a-zA-Z.]{1,40}$/), fields: z.record(z.string(), z.unknown()), tag: str(100).optional() }),
  a('servers.save', {
    id: str(64).min(1).optional(),
    label: str(200),
    host: z.string().min(1).max(255),
    port,
    username: z.string().min(1).max(64),
    password: z.string().max(1024).optional(),
    rememberPassword: z.boolean().default(false),
  }),
  a('servers.remove', { id: str(64).min(1) }),
  a('servers.connect', { serverId: str(64).min(1), password: z.string().max(1024).optional(), register: register.optional(), channel: channel.optional() }),
  a('chat.history', { channelId: id.optional(), beforeId: z.number().int().positive().optional(), limit: z.number().int().min(1).max(200).optional() }),
  a('layout.select', { pluginId: pluginId.nullable() }),
  a('ptt.key', { key: z.string().min(1).max(64) }),
  a('quit', {}),
]);

const savedServer = z
  .object({ id: str(64).min(1).optional(), label: str(200), host: z.string().min(1).max(255), port, username: z.string().min(1).max(64), password: z.string().max(1024).optional() })
  .strict();

export const PageMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('action'), action: z.unknown() }).strict(),
  z.object({ type: z.literal('ack'), seq: z.number().int().nonnegative() }).strict(),
  z.object({ type: z.literal('resync') }).strict(),
  z.object({ type: z.literal('viewport'), width: z.number().min(0).max(100_000), height: z.number().min(0).max(100_000) }).strict(),
  z.object({ type: z.literal('servers.save'), server: savedServer, rememberPassword: z.boolean().default(false) }).strict(),
  z.object({ type: z.literal('servers.remove'), id: str(64).min(1) }).strict(),
  z.object({ type: z.literal('servers.connect'), id: str(64).min(1), password: z.string().max(1024).optional() }).strict(),
]);

export type PageMessage =
  | { kind: 'action'; action: ClientAction }
  | { kind: 'ack'; seq: number }
  | { kind: 'resync' }
  | { kind: 'viewport'; width: number; height: number }
  | { kind: 'invalid'; reason: string };

const problems = (e: z.ZodError) => e.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/** Parses one text frame from the page into what the server acts on. */
export function parsePageMessage(raw: string): PageMessage {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  const m = PageMessageSchema.safeParse(json);
  if (!m.success) return { kind: 'invalid', reason: problems(m.error) };
  const v = m.data;
  let action: unknown;
  switch (v.type) {
    case 'ack':
      return { kind: 'ack', seq: v.seq };
    case 'resync':
      return { kind: 'resync' };
    case 'viewport':
      return { kind: 'viewport', width: v.width, height: v.height };
    case 'action':
      action = v.action;
      // `connect` by saved server id is servers.connect.
      if (typeof action === 'object' && action !== null && (action as { type?: unknown }).type === 'connect' && 'serverId' in action) action = { ...action, type: 'servers.connect' };
      break;
    case 'servers.save':
      action = { type: 'servers.save', ...v.server, rememberPassword: v.rememberPassword };
      break;
    case 'servers.remove':
      action = { type: 'servers.remove', id: v.id };
      break;
    case 'servers.connect':
      action = { type: 'servers.connect', serverId: v.id, ...(v.password !== undefined ? { password: v.password } : {}) };
      break;
  }
  const r = ClientActionSchema.safeParse(action);
  if (!r.success) return { kind: 'invalid', reason: `action: ${problems(r.error)}` };
  return { kind: 'action', action: r.data as ClientAction };
}
