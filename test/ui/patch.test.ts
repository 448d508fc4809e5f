// Snapshot patches (host/client/ui/patch.ts): a copy kept up to date with
// patches alone equals the full snapshot, as JSON, after long random
// sequences of changes of every kind a ClientSnapshot goes through (users
// joining, leaving, moving, speaking; channels renamed and re-parented; chat
// appended and trimmed; request results added and dropped; members that come
// and go, undefined members, NaN; arrays without ids; objects replaced by null
// and back). Each patch travels as JSON, as on the socket. What did not
// change keeps its identity in the copy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptySnapshot, type ClientSnapshot } from '../../host/client/core/snapshot.js';
import { compactSnapshot } from '../../host/client/ui/compact.js';
import { applyPatch, diff, PatchError, share, type Patch } from '../../host/client/ui/patch.js';
import { rng } from '../../host/dsp/room.js'; // mulberry32: seeded, so a failure can be replayed

const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v) ?? 'null');
const wire = (p: Patch): Patch => JSON.parse(JSON.stringify(p)) as Patch;

/** Order-sensitive where JSON is (arrays), insensitive for object members; returns the first difference. */
function firstDifference(a: unknown, b: unknown, path = '$'): string | null {
  if (a === b) return null;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return `${path}: ${JSON.stringify(a)?.slice(0, 80)} vs ${JSON.stringify(b)?.slice(0, 80)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs object`;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return `${path}: length ${a.length} vs ${bb.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], bb[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) {
    if (!(k in ao) || !(k in bo)) return `${path}.${k}: only in ${k in ao ? 'the copy' : 'the snapshot'}`;
    const d = firstDifference(ao[k], bo[k], `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

function baseState(r: () => number): ClientSnapshot {
  const s = emptySnapshot();
  s.connection = { status: 'connected', server: { host: 'h', port: 1, name: 'S' }, username: 'me', fingerprint: 'AA', attempt: 0, nextRetryAt: null, certificate: null, error: null };
  s.self = { sessionId: 1000, userId: 1, username: 'me', role: 'moderator' };
  s.channels = Array.from({ length: 8 }, (_, i) => ({ id: i + 1, parentId: i === 0 ? null : 1 + Math.floor(r() * i), name: `ch${i}`, isVoice: i % 2 === 0, requiredRole: 'guest', position: i, description: '' }));
  s.users = Array.from({ length: 20 }, (_, i) => ({
    sessionId: 1000 + i, userId: 1 + i, username: i === 0 ? 'me' : `u${i}`, role: 'member', channelId: 1 + (i % 8), selfMute: false, selfDeaf: false, serverMute: false,
    voiceToken: 5000 + i, speaking: false, levelDb: null, localMuted: false, volume: 1,
  }));
  s.chat = Array.from({ length: 30 }, (_, i) => ({ id: i + 1, channelId: 1, recipientId: null, senderId: 2, senderName: 'u1', text: `m${i}`, createdAt: 1_700_000_000_000 + i }));
  return s;
}

let nextId = 10_000;
/** One random change, made the way the core makes them: new objects, never mutation. */
function change(s: ClientSnapshot, r: () => number): ClientSnapshot {
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(r() * xs.length)];
  const k = Math.floor(r() * 22);
  switch (k) {
    case 0: // a user speaks or stops
    case 1: {
      const users = s.users.map((u) => (r() < 0.2 ? { ...u, speaking: !u.speaking, levelDb: u.speaking ? null : -20 - Math.round(r() * 30) } : u));
      return { ...s, users, speaking: users.filter((u) => u.speaking).map((u) => u.sessionId) };
    }
    case 2: // a user joins
      return { ...s, users: [...s.users, { ...s.users[0]!, sessionId: nextId, userId: nextId, username: `n${nextId++}`, channelId: pick(s.channels)?.id ?? 1 }] };
    case 3: // a user leaves
      return s.users.length > 1 ? { ...s, users: s.users.filter((_, i) => i !== 1 + Math.floor(r() * (s.users.length - 1))) } : s;
    case 4: // a user moves
      return { ...s, users: s.users.map((u) => (r() < 0.1 ? { ...u, channelId: pick(s.channels)?.id ?? 1 } : u)) };
    case 5: // reordered (the core lists users in map order)
      return { ...s, users: s.users.slice().sort(() => r() - 0.5) };
    case 6: // a channel renamed or re-parented
      return { ...s, channels: s.channels.map((c) => (r() < 0.2 ? { ...c, name: `${c.name}'`, parentId: c.parentId === null ? null : pick(s.channels)!.id } : c)) };
    case 7: // a channel created or deleted
      return r() < 0.5 ? { ...s, channels: [...s.channels, { ...s.channels[0]!, id: nextId++, parentId: 1, name: 'new' }] } : { ...s, channels: s.channels.filter((c, i) => i === 0 || r() < 0.9) };
    case 8: // a chat message; the log keeps its newest
    case 9:
      return { ...s, chat: [...s.chat.slice(-39), { id: nextId, channelId: 1, recipientId: null, senderId: 2, senderName: 'u1', text: `live ${nextId++}`, createdAt: Date.now() }] };
    case 10: // older history loaded in front
      return { ...s, chat: [{ id: -nextId++, channelId: 1, recipientId: null, senderId: 3, senderName: 'u2', text: 'old', createdAt: 1 }, ...s.chat] };
    case 11: // levels and counters
      return { ...s, audio: { ...s.audio, inputLevelDb: -60 + r() * 60, clock: { ...s.audio.clock, ticks: s.audio.clock.ticks + 1 } }, voice: { ...s.voice, sent: s.voice.sent + 1, rttMs: r() < 0.2 ? null : Math.round(r() * 50) } };
    case 12: // jitter-buffer stats per speaker (keyed by voice token)
      return {
        ...s,
        voice: {
          ...s.voice,
          speakers: s.users.filter(() => r() < 0.3).slice(0, 5).map((u) => ({ token: u.voiceToken ?? 0, sessionId: r() < 0.1 ? null : u.sessionId, username: u.username, speaking: true, levelDb: -30, received: Math.round(r() * 100), late: 0, duplicate: 0, lost: 1, concealed: 0, fecRecovered: 0, inserted: 0, dropped: 0, depthMs: 40, targetMs: 60, jitterMs: r() * 5, playoutDelayMs: 70, maxDepthMs: 100 })),
        },
      };
    case 13: { // a request result added, or the oldest dropped
      const requests = { ...s.requests };
      const keys = Object.keys(requests);
      if (keys.length && r() < 0.4) delete requests[keys[0]!];
      else requests[`ui-${nextId++}`] = r() < 0.5 ? { ok: true, result: { n: r(), list: [1, 2, { a: null }] } } : { ok: false, error: { code: 'X', message: 'no', at: 1 } };
      return { ...s, requests };
    }
    case 14: // errors: an array without ids (matched by position), duplicates included
      return { ...s, errors: r() < 0.3 ? [] : [...s.errors.slice(-4), { code: 'E', message: r() < 0.5 ? 'same' : `e${nextId++}`, at: 5 }] };
    case 15: // an object replaced by null and back
      return { ...s, connection: { ...s.connection, certificate: s.connection.certificate ? null : { hostKey: 'h:1', pinned: null, offered: 'BB', changed: r() < 0.5 } } };
    case 16: // members that are undefined (absent in JSON), NaN and Infinity (null in JSON)
      return { ...s, audio: { ...s.audio, inputPeakDb: r() < 0.5 ? NaN : r() < 0.5 ? -Infinity : -3, available: r() < 0.5 ? (undefined as never) : null } };
    case 17: // a member added then removed
      return r() < 0.5 ? ({ ...s, extra: { deep: { list: [1, 'two', null] } } } as ClientSnapshot) : (({ extra: _x, ...rest }) => rest as ClientSnapshot)(s as ClientSnapshot & { extra?: unknown });
    case 18: // a primitive array (speaking ids) changed in place of order
      return { ...s, speaking: s.speaking.slice().reverse().concat(r() < 0.3 ? [1000] : []) };
    case 19: // duplicate ids (a broken list): matched by position, still exact
      return { ...s, clientPlugins: r() < 0.5 ? [] : ([{ id: 'a', n: r() }, { id: 'a', n: 2 }] as unknown as ClientSnapshot['clientPlugins']) };
    case 20: // a kind change: array ↔ object ↔ number
      return { ...s, plugins: (r() < 0.33 ? [] : r() < 0.5 ? { not: 'an array' } : 7) as unknown as ClientSnapshot['plugins'] };
    default: // the same snapshot again, as a new object
      return { ...s };
  }
}

test('a copy kept with patches equals the full snapshot after 5 × 400 random changes (as JSON, through compactSnapshot)', () => {
  let bytes = 0;
  let fullBytes = 0;
  let steps = 0;
  for (const seed of [1, 2, 3, 42, 2024]) {
    const r = rng(seed);
    let s = baseState(r);
    let copy: unknown = asJson(compactSnapshot(s));
    for (let i = 0; i < 400; i++) {
      // Several changes between two sends (the core publishes more often than it sends).
      const n = 1 + Math.floor(r() * 3);
      for (let j = 0; j < n; j++) s = change(s, r);
      const next = compactSnapshot(s);
      const before = copy;
      const p = diff(copy, next);
      if (p !== undefined) {
        const pj = JSON.stringify(p);
        bytes += pj.length;
        copy = applyPatch(copy, wire(p));
      }
      fullBytes += JSON.stringify(next).length;
      steps++;
      const d = firstDifference(copy, asJson(next));
      if (d) assert.unreachable(`seed ${seed}, step ${i}: the patched copy differs from the snapshot at ${d}`);
      // What did not change keeps its identity.
      const b = before as Record<string, unknown>;
      const c = copy as Record<string, unknown>;
      for (const k of ['channels', 'users', 'chat', 'connection', 'errors', 'requests']) {
        if (JSON.stringify(b[k]) === JSON.stringify(c[k])) assert.ok(b[k] === c[k], `seed ${seed}, step ${i}: ${k} did not change but lost its identity`);
      }
    }
  }
  process.stdout.write(`  patches: ${steps} steps, ${Math.round(bytes / steps)} bytes per patch on average against ${Math.round(fullBytes / steps)} per full snapshot\n`);
});

test('the check has teeth: a patch that loses one change, or one applied to the wrong base, is caught', () => {
  const r = rng(7);
  const s0 = baseState(r);
  const copy = asJson(compactSnapshot(s0));
  const s1 = { ...s0, users: s0.users.map((u, i) => (i === 3 ? { ...u, speaking: true } : u)), voice: { ...s0.voice, sent: 9 } };
  const p = diff(copy, compactSnapshot(s1)) as Record<string, Patch>;
  assert.ok(p && p.users && p.voice, 'both changes are in the patch');
  const lossy = { ...p };
  delete lossy.users;
  assert.ok(firstDifference(applyPatch(copy, wire(lossy as Patch)), asJson(compactSnapshot(s1))) !== null, 'a lost change is detected');
  // On the wrong base, an item index out of range throws (the page then asks for a resync).
  const s2 = { ...s0, users: [...s0.users, { ...s0.users[0]!, sessionId: 1, username: 'x' }] };
  const grow = diff(copy, compactSnapshot(s2))!;
  const shortBase = { ...(copy as Record<string, unknown>), users: [] };
  assert.throws(() => applyPatch(shortBase, wire(grow)), (e: unknown) => e instanceof PatchError);
  assert.throws(() => applyPatch(5, { a: [1] }), (e: unknown) => e instanceof PatchError);
});

test('small patches: a speaking light is one field; a new message is one item and a run', () => {
  const r = rng(9);
  const s0 = baseState(r);
  const copy = asJson(compactSnapshot(s0));
  const s1 = { ...s0, users: s0.users.map((u, i) => (i === 5 ? { ...u, speaking: true } : u)) };
  assert.equal(diff(copy, compactSnapshot(s1)), { users: [2, [[0, 5], { i: 5, p: { speaking: [true] } }, [6, 14]]] });
  const msg = { id: 99, channelId: 1, recipientId: null, senderId: 2, senderName: 'u1', text: 'hi', createdAt: 5 };
  const s2 = { ...s0, chat: [...s0.chat.slice(1), msg] };
  assert.equal(diff(copy, compactSnapshot(s2)), { chat: [2, [[1, 29], { v: msg }]] });
  assert.is(diff(copy, compactSnapshot({ ...s0 })), undefined, 'nothing changed: no patch');
});

test('share(): a full snapshot keeps the identity of what equals the one held', () => {
  const r = rng(11);
  const a = asJson(compactSnapshot(baseState(r))) as ClientSnapshot;
  const b = asJson(a) as ClientSnapshot;
  b.users[2]!.speaking = true;
  const c = share(a, b);
  assert.ok(c.channels === a.channels && c.chat === a.chat && c.users !== a.users && c.users[1] === a.users[1] && c.users[2] !== a.users[2]);
  assert.is(firstDifference(c, b), null);
  assert.ok(share(a, asJson(a) as ClientSnapshot) === a, 'all equal: the same object');
});

test.run();
