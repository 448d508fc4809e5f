// The snapshot as the page gets it: the same shape as ClientSnapshot (so the
// page types it with core/snapshot.ts), without what no widget shows. The core
// holds up to 2,000 chat messages of every channel; the page gets only its own
// channel's newest ones and the direct messages, and the newest request results.
import type { ClientSnapshot } from '../core/snapshot.js';

export const PAGE_CHAT_CHANNEL = 200;
export const PAGE_CHAT_DIRECT = 100;
export const PAGE_REQUESTS = 20;
/** A passed-through request's result bigger than this (JSON chars) is replaced by a note. */
export const PAGE_RESULT_CHARS = 64 * 1024;

export function compactSnapshot(s: ClientSnapshot): ClientSnapshot {
  const selfId = s.self?.sessionId;
  const myChannel = s.users.find((u) => u.sessionId === selfId)?.channelId ?? null;
  const channelChat: ClientSnapshot['chat'] = [];
  const direct: ClientSnapshot['chat'] = [];
  for (let i = s.chat.length - 1; i >= 0 && (channelChat.length < PAGE_CHAT_CHANNEL || direct.length < PAGE_CHAT_DIRECT); i--) {
    const m = s.chat[i]!;
    if (m.channelId === null) {
      if (direct.length < PAGE_CHAT_DIRECT) direct.push(m);
    } else if (m.channelId === myChannel && channelChat.length < PAGE_CHAT_CHANNEL) channelChat.push(m);
  }
  const chat = [...channelChat, ...direct].sort((x, y) => x.id - y.id);
  const tags = Object.keys(s.requests).slice(-PAGE_REQUESTS);
  const requests: ClientSnapshot['requests'] = {};
  for (const t of tags) {
    const r = s.requests[t]!;
    if (r.result !== undefined && JSON.stringify(r.result).length > PAGE_RESULT_CHARS) requests[t] = { ok: r.ok, result: { truncated: true, note: `result larger than ${PAGE_RESULT_CHARS} characters` } };
    else requests[t] = r;
  }
  return { ...s, chat, requests };
}
