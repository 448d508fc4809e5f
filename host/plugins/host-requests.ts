// Schemas of the requests guests send to host functions (host API v1),
// validated as strictly as protocol messages: a guest is as untrusted as a
// client. Why zod and not ad-hoc checks: `Number.isInteger(1e300)` is true,
// and a channelId of 1e300 was accepted and posted to the root channel.
import { z } from 'zod';

/** Ids are SQLite rowids the server hands out: positive 31-bit integers are plenty and keep JSON exact. */
const Id = z.number().int().min(0).max(0x7fff_ffff);

export const TEXT_CHARS = 4000;
export const KEY_CHARS = 256;

export const ChatSendRequest = z.object({
  text: z.string().min(1).max(TEXT_CHARS),
  channelId: Id.optional(),
});

export const KvKeyRequest = z.object({ key: z.string().min(1).max(KEY_CHARS) });

export const KvSetRequest = z.object({
  key: z.string().min(1).max(KEY_CHARS),
  value: z.string(),
});

export const ModerateRequest = z.object({
  action: z.enum(['kick', 'mute', 'unmute']),
  userId: Id,
  reason: z.string().max(500).optional(),
});

export const LogRequest = z.object({
  level: z.enum(['debug', 'info', 'warn', 'error']).optional(),
  msg: z.string(),
});

/** The reply of a request that does not match its schema: every problem, in one line. */
export function badRequest(err: z.ZodError): { error: 'BAD_REQUEST'; message: string } {
  const problems = err.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ');
  return { error: 'BAD_REQUEST', message: problems.slice(0, 500) };
}

/**
 * Parses one sample of each schema: zod compiles a schema's checks on first
 * use, and that cost (~2 ms on a busy machine) would otherwise land on the
 * guest's first call, which a callMs of a few ms may not cover. Called once
 * when a sandbox thread starts.
 */
export function warmRequestSchemas(): void {
  ChatSendRequest.safeParse({ text: 'x', channelId: 1 });
  KvKeyRequest.safeParse({ key: 'k' });
  KvSetRequest.safeParse({ key: 'k', value: 'v' });
  ModerateRequest.safeParse({ action: 'kick', userId: 1, reason: '' });
  LogRequest.safeParse({ level: 'info', msg: 'x' });
  ChatSendRequest.safeParse({ text: 1 });
}
