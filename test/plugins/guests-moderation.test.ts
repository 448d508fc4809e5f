// The wordfilter guest (guests/wordfilter) as a moderation filter, compiled to
// wasm and run in a PluginHost: words masked or blocked, the flood limit per
// user (by the events' ts), escalation to a mute and then a kick (the
// moderation actions the host receives), strikes kept in SQLite across a
// reload, and what happens when "moderation" is not granted.
import Database from 'better-sqlite3';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginAction } from '../../host/plugins/runtime.js';
import { PluginHost } from '../../host/plugins/runtime.js';
import { SqliteKvStore, type KvStore } from '../../host/plugins/storage.js';
import { captureLogger, guestWasm, shippedManifest } from './helpers.js';

const test = suite('guests: wordfilter moderation');

const ann = { id: 7, name: 'ann' };
const bob = { id: 8, name: 'bob' };
const T0 = 1_700_000_000_000;

interface Filter {
  host: PluginHost;
  actions: PluginAction[];
  log: ReturnType<typeof captureLogger>;
  say(text: string, ts: number, user?: { id: number; name: string }): ReturnType<PluginHost['chat']>;
  stats(args?: string, ts?: number): Promise<string | null>;
  /** Moderation actions so far, as "mute 7" / "kick 7". */
  moderation(): string[];
}

async function startFilter(config: Record<string, unknown>, opts: { kv?: KvStore; grants?: string[] } = {}): Promise<Filter> {
  const log = captureLogger();
  const host = new PluginHost({ logger: log.logger, ...(opts.kv ? { kv: opts.kv } : {}) });
  const actions: PluginAction[] = [];
  host.on('action', (a: PluginAction) => actions.push(a));
  const m = shippedManifest('wordfilter');
  await host.load({ manifest: m, wasm: guestWasm('wordfilter'), grants: opts.grants ?? m.capabilities, config });
  return {
    host,
    actions,
    log,
    say: (text, ts, user = ann) => host.chat({ channelId: 1, user, text, ts }),
    stats: async (args = '', ts = T0) => (await host.command({ command: 'filterstats', args, user: ann, channelId: 1, ts }))?.reply ?? null,
    moderation: () => actions.flatMap((a) => (a.effect.kind === 'moderation' ? [`${a.effect.action} ${a.effect.userId}`] : [])),
  };
}

const masked = (text: string) => ({ action: 'rewrite', text, by: ['wordfilter'] });
const blocked = (reason: string) => ({ action: 'block', by: 'wordfilter', reason });
const ALLOW = { action: 'allow' };
const QUIET = { muteAfter: 0, kickAfter: 0 };

test('word list, mode mask: every occurrence becomes asterisks, case-insensitively', async () => {
  const f = await startFilter({ words: ['darn', 'Heck'], mode: 'mask', ...QUIET });
  try {
    assert.equal(await f.say('a lovely day', T0), ALLOW);
    assert.equal(await f.say('DARN it, darn, what the hEcK', T0), masked('**** it, ****, what the ****'));
    assert.equal(await f.say('darndarn', T0), masked('********'));
    assert.equal(await f.say('İstanbul darn ünïcode', T0), masked('İstanbul **** ünïcode'), 'positions survive non-ASCII case folding');
    assert.equal(await f.say('darned', T0), masked('****ed'), 'substring match by default');
    assert.is(await f.stats(), '4 messages filtered');
    assert.equal(f.actions, [], 'no escalation configured');
  } finally {
    await f.host.close();
  }
});

test('word list, mode block; wholeWords; the 1.0 mode name "rewrite" still masks', async () => {
  let f = await startFilter({ words: ['heck'], mode: 'block', ...QUIET });
  try {
    assert.equal(await f.say('oh heck', T0), blocked('message contains a filtered word'));
    assert.equal(await f.say('oh well', T0), ALLOW);
    await f.host.close();

    f = await startFilter({ words: ['ass'], wholeWords: true, ...QUIET });
    assert.equal(await f.say('a class act, a bass, an assessment', T0), ALLOW, 'inside other words: untouched');
    assert.equal(await f.say('ASS! you ass.', T0), masked('***! you ***.'));
    await f.host.close();

    f = await startFilter({ words: ['heck'], mode: 'rewrite', ...QUIET });
    assert.equal(await f.say('heck', T0), masked('****'));
  } finally {
    await f.host.close();
  }
});

test('flood limit: more than floodMessages within floodWindowMs (by event ts) is blocked, per user', async () => {
  const f = await startFilter({ floodMessages: 3, floodWindowMs: 1000, ...QUIET });
  const flood = blocked('flood: more than 3 messages in 1 second');
  try {
    assert.equal(await f.say('1', T0), ALLOW);
    assert.equal(await f.say('2', T0 + 100), ALLOW);
    assert.equal(await f.say('3', T0 + 200), ALLOW);
    assert.equal(await f.say('4', T0 + 300), flood);
    assert.equal(await f.say('hi', T0 + 310, bob), ALLOW, 'another user has a window of their own');
    assert.equal(await f.say('5', T0 + 999), flood, 'blocked attempts count too');
    // At T0+1350 the window (T0+350, T0+1350] holds only the attempt at T0+999.
    assert.equal(await f.say('6', T0 + 1350), ALLOW);
    assert.equal(await f.say('7', T0 + 1360), ALLOW);
    assert.equal(await f.say('8', T0 + 1370), flood);
    // Long after: the window is empty again.
    assert.equal(await f.say('9', T0 + 10_000), ALLOW);
    const flooded = await startFilter({ floodMessages: 0, ...QUIET });
    try {
      for (let i = 0; i < 20; i++) assert.equal(await flooded.say(`m${i}`, T0), ALLOW, 'floodMessages 0: no limit');
    } finally {
      await flooded.host.close();
    }
  } finally {
    await f.host.close();
  }
});

test('escalation: strikes from words and floods; mute at muteAfter, kick kickAfter strikes later', async () => {
  const f = await startFilter({ words: ['darn'], floodMessages: 2, floodWindowMs: 1000, muteAfter: 2, kickAfter: 2 });
  try {
    assert.equal(await f.say('darn', T0), masked('****'), 'strike 1');
    assert.equal(f.actions, []);
    assert.equal(await f.say('darn again', T0 + 2000), masked('**** again'), 'strike 2: mute');
    assert.equal(f.actions, [
      { pluginId: 'wordfilter', effect: { kind: 'moderation', action: 'mute', userId: 7, reason: 'word filter: 2 strikes (filtered words)' } },
      { pluginId: 'wordfilter', effect: { kind: 'chat.send', text: 'ann has been muted by the word filter after 2 strikes.', channelId: 1 } },
    ]);
    assert.is(await f.stats('ann', T0 + 2000), 'ann: 2 strikes (mute at 2, kick at 4)');
    // A flood episode is one strike, however many messages it blocks.
    assert.equal(await f.say('a', T0 + 5000), ALLOW);
    assert.equal(await f.say('b', T0 + 5001), ALLOW);
    assert.equal(await f.say('c', T0 + 5002), blocked('flood: more than 2 messages in 1 second'), 'strike 3');
    assert.equal(await f.say('d', T0 + 5003), blocked('flood: more than 2 messages in 1 second'), 'same episode: no strike');
    assert.equal(f.moderation(), ['mute 7']);
    assert.is(await f.stats('ANN', T0 + 5003), 'ann: 3 strikes (mute at 2, kick at 4)');
    assert.equal(await f.say('darn', T0 + 9000), masked('****'), 'strike 4: kick');
    assert.equal(f.actions.slice(2), [
      { pluginId: 'wordfilter', effect: { kind: 'moderation', action: 'kick', userId: 7, reason: 'word filter: 4 strikes (filtered words)' } },
      { pluginId: 'wordfilter', effect: { kind: 'chat.send', text: 'ann has been kicked by the word filter after 4 strikes.', channelId: 1 } },
    ]);
    // A kicked user starts over.
    assert.is(await f.stats('ann', T0 + 9000), 'ann: 0 strikes (mute at 2, kick at 4)');
    assert.equal(await f.say('darn', T0 + 12_000, bob), masked('****'));
    assert.equal(f.moderation(), ['mute 7', 'kick 7'], "bob's first strike does nothing");
    assert.is(await f.stats(), '4 messages filtered');
    assert.ok(f.log.lines.some((l) => l.plugin === 'wordfilter' && l.source === 'guest' && /kick user 7 after 4 strikes/.test(l.msg)));
  } finally {
    await f.host.close();
  }
});

test('escalation thresholds: 0 disables a step; announce off; strikes forgotten after strikeWindowMs', async () => {
  let f = await startFilter({ words: ['x'], muteAfter: 0, kickAfter: 2, announce: false });
  try {
    await f.say('x', T0);
    await f.say('x', T0 + 1);
    assert.equal(f.actions.map((a) => a.effect), [{ kind: 'moderation', action: 'kick', userId: 7, reason: 'word filter: 2 strikes (filtered words)' }], 'muteAfter 0: kicked at kickAfter, not announced');
    await f.host.close();

    f = await startFilter({ words: ['x'], muteAfter: 1, kickAfter: 0 });
    for (let i = 0; i < 5; i++) await f.say('x', T0 + i);
    assert.equal(f.moderation(), ['mute 7'], 'kickAfter 0: never kicked, muted once');
    assert.is(await f.stats('ann', T0 + 5), 'ann: 5 strikes (mute at 1)');
    await f.host.close();

    f = await startFilter({ words: ['x'], muteAfter: 2, kickAfter: 0, strikeWindowMs: 60_000 });
    await f.say('x', T0);
    await f.say('x', T0 + 61_000);
    assert.equal(f.moderation(), [], 'the first strike was forgotten');
    await f.say('x', T0 + 100_000);
    assert.equal(f.moderation(), ['mute 7']);
  } finally {
    await f.host.close();
  }
});

test('strikes and counters persist in SQLite across a reload of the plugin', async () => {
  const db = new Database(':memory:');
  const kv = new SqliteKvStore(db);
  let f = await startFilter({ words: ['darn'], muteAfter: 2, kickAfter: 1 }, { kv });
  try {
    assert.equal(await f.say('darn', T0), masked('****'));
    assert.equal(f.actions, []);
    await f.host.close();
    const row = db.prepare("SELECT value FROM plugin_kv WHERE plugin_id = 'wordfilter' AND key = 'strikes:7'").get() as { value: string };
    assert.is(row.value, `1,${T0}`);

    f = await startFilter({ words: ['darn'], mode: 'block', muteAfter: 2, kickAfter: 1 }, { kv });
    assert.equal(await f.say('darn', T0 + 1000), blocked('message contains a filtered word'));
    assert.equal(f.moderation(), ['mute 7'], 'the strike from before the reload counted');
    assert.is(await f.stats(), '2 messages filtered');
    assert.is(await f.stats('ann', T0 + 1000), 'ann: 2 strikes (mute at 2, kick at 3)', 'offline users are found by name');
    const keys = (db.prepare("SELECT key FROM plugin_kv WHERE plugin_id = 'wordfilter' ORDER BY key").all() as { key: string }[]).map((r) => r.key);
    assert.equal(keys, ['filtered', 'mutes', 'name:ann', 'strikes:7']);
  } finally {
    await f.host.close();
    db.close();
  }
});

test('without the moderation capability the filter still works; escalation is refused and logged', async () => {
  const m = shippedManifest('wordfilter');
  assert.ok(m.capabilities.includes('moderation'), 'the manifest asks for it');
  const f = await startFilter({ words: ['darn'], muteAfter: 1, kickAfter: 1 }, { grants: m.capabilities.filter((c) => c !== 'moderation') });
  try {
    assert.equal(await f.say('darn', T0), masked('****'));
    assert.equal(await f.say('darn', T0 + 1), masked('****'));
    assert.equal(f.actions, [], 'no moderation, no announcement of one');
    assert.ok(f.log.lines.some((l) => l.plugin === 'wordfilter' && l.capability === 'moderation' && /denied/.test(l.msg)), 'host logs the denial');
    assert.ok(f.log.lines.some((l) => l.source === 'guest' && /mute of user 7 refused by the host/.test(l.msg)), 'the guest says so');
  } finally {
    await f.host.close();
  }
});

test.run();
