// Listeners' loss reaches the speaker: voice.report (listener → server) and
// voice.feedback (server → speaker), over a real server (docs/PROTOCOL.md 12.5).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { ChannelView, ServerMessage, WelcomeResult } from '../../host/protocol/server-messages.js';
import { aggregateReports } from '../../host/server/voice/voice-session.js';
import { connect, createUser, eventually, expectError, PASSWORD, sleep, startServer, type TestServer } from '../helpers/server.js';

interface Peer {
  c: ControlClient;
  w: WelcomeResult;
  id: number;
  feedback: Extract<ServerMessage, { type: 'voice.feedback' }>[];
}

async function peer(t: TestServer, name: string, role: 'member' | 'moderator' = 'member'): Promise<Peer> {
  await createUser(t, name, role);
  const c = await connect(t);
  const w = await c.login(name, PASSWORD);
  const feedback: Peer['feedback'] = [];
  c.on('voice.feedback', (m) => feedback.push(m));
  return { c, w, id: w.self.sessionId, feedback };
}

type Ctx = { t: TestServer; sam: Peer; bob: Peer; carl: Peer; dave: Peer; mod: Peer; room: ChannelView; other: ChannelView; staff: ChannelView };
const test = suite<Ctx>('voice feedback');

test.before.each(async (ctx) => {
  ctx.t = await startServer();
  ctx.mod = await peer(ctx.t, 'mod', 'moderator');
  ctx.sam = await peer(ctx.t, 'sam');
  ctx.bob = await peer(ctx.t, 'bob');
  ctx.carl = await peer(ctx.t, 'carl');
  ctx.dave = await peer(ctx.t, 'dave');
  const create = async (fields: Record<string, unknown>) => (await ctx.mod.c.request<{ channel: ChannelView }>('channel.create', { parentId: 1, ...fields })).channel;
  ctx.room = await create({ name: 'Room' });
  ctx.other = await create({ name: 'Other' });
  ctx.staff = await create({ name: 'Staff', requiredRole: 'moderator' });
  for (const p of [ctx.sam, ctx.bob, ctx.carl]) await p.c.request('channel.join', { channelId: ctx.room.id });
  await ctx.dave.c.request('channel.join', { channelId: ctx.other.id });
  await ctx.mod.c.request('channel.join', { channelId: ctx.staff.id });
});
test.after.each(async (ctx) => {
  for (const p of [ctx.sam, ctx.bob, ctx.carl, ctx.dave, ctx.mod]) p.c.close();
  await ctx.t.stop();
});

type Feedback = Extract<ServerMessage, { type: 'voice.feedback' }>;

/**
 * The first voice.feedback to `p` at index `from` or later that matches. Events
 * can arrive before the request that caused them resolves (the server sends
 * them first), so this looks at what was recorded, not only at what comes next.
 */
const feedbackFrom = (p: Peer, from: number, pred: (m: Feedback) => boolean, timeoutMs = 4000) =>
  eventually(() => p.feedback.slice(from).find(pred), timeoutMs, 'voice.feedback');

test('two listeners report 4 % and 12 %: the speaker gets 12 % from 2 listeners, and nothing else', async ({ sam, bob, carl }) => {
  // Default timing: the first figure goes out at once, the change follows within ~2 s (the sweep).
  assert.ok(bob.c.reportVoice([{ sessionId: sam.id, lossPercent: 4, jitterMs: 10 }]));
  assert.ok(carl.c.reportVoice([{ sessionId: sam.id, lossPercent: 12, jitterMs: 30 }]));
  // The client throttles itself to the server's one per second instead of earning RATE_LIMITED.
  assert.is(bob.c.reportVoice([{ sessionId: sam.id, lossPercent: 5, jitterMs: 10 }]), false);
  const fb = await feedbackFrom(sam, 0, (m) => m.listeners === 2);
  assert.equal(fb, { type: 'voice.feedback', lossPercent: 12, jitterMs: 30, listeners: 2 }, 'aggregates only: no listener ids or per-listener figures');
  assert.equal(sam.feedback[0], { type: 'voice.feedback', lossPercent: 4, jitterMs: 10, listeners: 1 }, 'the first report went out at once');
  assert.is(sam.c.state.voiceFeedback?.lossPercent, 12);
  assert.is(sam.c.state.voiceFeedback?.listeners, 2);
  assert.is(bob.feedback.length + carl.feedback.length, 0, 'nobody reported about the listeners');
  // An unchanged figure is not resent.
  await sleep(1200);
  const before = sam.feedback.length;
  assert.ok(carl.c.reportVoice([{ sessionId: sam.id, lossPercent: 12, jitterMs: 30 }]));
  await sleep(300);
  assert.is(sam.feedback.length, before, 'same value, no event');
});

test('a listener leaving the channel, deafening or ending its session drops its report', async ({ t, sam, bob, carl, dave, other }) => {
  t.server.voice.feedbackTiming.minIntervalMs = 0;
  await bob.c.request('voice.report', { speakers: [{ sessionId: sam.id, lossPercent: 4, jitterMs: 10 }] });
  await carl.c.request('voice.report', { speakers: [{ sessionId: sam.id, lossPercent: 12, jitterMs: 30 }] });
  await dave.c.request('voice.report', { speakers: [] });
  await feedbackFrom(sam, 0, (m) => m.listeners === 2 && m.lossPercent === 12);
  let from = sam.feedback.length;
  await carl.c.request('channel.join', { channelId: other.id });
  assert.equal(await feedbackFrom(sam, from, () => true), { type: 'voice.feedback', lossPercent: 4, jitterMs: 10, listeners: 1 });
  // Coming back does not revive the old report: it has to report again.
  await carl.c.request('channel.join', { channelId: sam.c.state.users.get(sam.id)!.channelId });
  await sleep(200);
  assert.is(sam.c.state.voiceFeedback?.listeners, 1);
  // A deafened listener hears nothing, so its report stops counting.
  from = sam.feedback.length;
  await carl.c.request('voice.report', { speakers: [{ sessionId: sam.id, lossPercent: 20, jitterMs: 5 }] });
  await feedbackFrom(sam, from, (m) => m.listeners === 2 && m.lossPercent === 20);
  from = sam.feedback.length;
  await carl.c.request('presence.set', { selfDeaf: true });
  assert.equal(await feedbackFrom(sam, from, () => true), { type: 'voice.feedback', lossPercent: 4, jitterMs: 10, listeners: 1 });
  // The last listener's session ends: the speaker hears that nobody reports any more.
  from = sam.feedback.length;
  bob.c.close();
  assert.equal(await feedbackFrom(sam, from, () => true), { type: 'voice.feedback', lossPercent: 0, jitterMs: 0, listeners: 0 });
});

test('the speaker moving away drops what its old listeners said', async ({ t, sam, bob, other }) => {
  t.server.voice.feedbackTiming.minIntervalMs = 0;
  await bob.c.request('voice.report', { speakers: [{ sessionId: sam.id, lossPercent: 7, jitterMs: 10 }] });
  await feedbackFrom(sam, 0, (m) => m.listeners === 1);
  await sam.c.request('channel.join', { channelId: other.id });
  assert.equal(await feedbackFrom(sam, 1, () => true), { type: 'voice.feedback', lossPercent: 0, jitterMs: 0, listeners: 0 });
});

test('reports older than reportMaxAgeMs stop counting', async ({ t, sam, bob }) => {
  t.server.voice.feedbackTiming.reportMaxAgeMs = 300;
  await bob.c.request('voice.report', { speakers: [{ sessionId: sam.id, lossPercent: 9, jitterMs: 10 }] });
  await feedbackFrom(sam, 0, (m) => m.listeners === 1);
  const expired = await feedbackFrom(sam, 1, (m) => m.listeners === 0, 3000);
  assert.is(expired.lossPercent, 0);
});

test('reports about unknown, hidden, other-channel or own sessions change nothing and answer like any other', async ({ sam, bob, carl, dave, mod }) => {
  const ignored = await bob.c.request('voice.report', {
    speakers: [
      { sessionId: 9999, lossPercent: 50, jitterMs: 100 }, // nobody
      { sessionId: mod.id, lossPercent: 50, jitterMs: 100 }, // in a channel bob cannot see
      { sessionId: dave.id, lossPercent: 50, jitterMs: 100 }, // visible, but bob does not hear him
      { sessionId: bob.id, lossPercent: 50, jitterMs: 100 }, // himself
    ],
  });
  const counted = await carl.c.request('voice.report', { speakers: [{ sessionId: sam.id, lossPercent: 3, jitterMs: 4 }] });
  assert.equal(ignored, {}, 'the reply tells nothing');
  assert.equal(ignored, counted, 'indistinguishable from a report that counted');
  await feedbackFrom(sam, 0, (m) => m.listeners === 1);
  await sleep(300);
  assert.is(mod.feedback.length + dave.feedback.length + bob.feedback.length, 0, 'no feedback to anyone reported about in vain');
  assert.equal(sam.c.state.voiceFeedback && { ...sam.c.state.voiceFeedback, receivedAt: 0 }, { lossPercent: 3, jitterMs: 4, listeners: 1, receivedAt: 0 });
  assert.ok(await bob.c.request('ping', { time: 1 }), 'connection fine');
});

test('malformed reports get INVALID_MESSAGE and the connection stays open', async ({ sam, bob }) => {
  const bad: Record<string, unknown>[] = [
    { speakers: [{ sessionId: sam.id, lossPercent: 101, jitterMs: 0 }] },
    { speakers: [{ sessionId: sam.id, lossPercent: -1, jitterMs: 0 }] },
    { speakers: [{ sessionId: sam.id, lossPercent: 1, jitterMs: 10_001 }] },
    { speakers: [{ sessionId: 0, lossPercent: 1, jitterMs: 1 }] },
    { speakers: [{ sessionId: '2', lossPercent: 1, jitterMs: 1 }] },
    { speakers: [{ sessionId: sam.id, lossPercent: 1, jitterMs: 1, username: 'sam' }] },
    { speakers: [{ sessionId: sam.id, lossPercent: 1 }] },
    { speakers: Array.from({ length: 65 }, () => ({ sessionId: sam.id, lossPercent: 1, jitterMs: 1 })) },
    { speakers: {} },
    {},
    { speakers: [], extra: true },
  ];
  for (const fields of bad) {
    const err = await expectError(bob.c.request('voice.report', fields), 'INVALID_MESSAGE');
    assert.match(err.message, /invalid voice\.report/);
  }
  assert.is(bob.c.closed, false);
  assert.ok(await bob.c.request('voice.report', { speakers: [{ sessionId: sam.id, lossPercent: 0.5, jitterMs: 2.5 }] }), 'a good one still works');
  assert.is(sam.feedback.length <= 1, true);
});

test('more than one report per second is refused with RATE_LIMITED; the connection stays open', async ({ sam, bob }) => {
  const r = { speakers: [{ sessionId: sam.id, lossPercent: 1, jitterMs: 1 }] };
  await bob.c.request('voice.report', r);
  await bob.c.request('voice.report', r); // the burst of 2 absorbs timer jitter
  await expectError(bob.c.request('voice.report', r), 'RATE_LIMITED');
  await sleep(1100);
  assert.equal(await bob.c.request('voice.report', r), {});
  assert.is(bob.c.closed, false);
});

test('aggregation: the maximum below 10 listeners, the worst tenth left out from 10 up', () => {
  assert.equal(aggregateReports([]), { lossPercent: 0, jitterMs: 0, listeners: 0 });
  assert.equal(aggregateReports([{ lossPercent: 4, jitterMs: 50 }, { lossPercent: 12, jitterMs: 5 }]), { lossPercent: 12, jitterMs: 50, listeners: 2 });
  const many = Array.from({ length: 12 }, (_, i) => ({ lossPercent: i, jitterMs: 100 - i }));
  many.push({ lossPercent: 90, jitterMs: 0 });
  // 13 listeners: skip floor(13/10) = 1 worst value per figure.
  assert.equal(aggregateReports(many), { lossPercent: 11, jitterMs: 99, listeners: 13 });
  assert.equal(aggregateReports([{ lossPercent: 3.14159, jitterMs: 2.6 }]), { lossPercent: 3.1, jitterMs: 3, listeners: 1 });
});

test.run();
