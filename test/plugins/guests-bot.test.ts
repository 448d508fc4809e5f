// The hearthbot guest (guests/hearthbot), compiled to wasm and run in a
// PluginHost: greetings on join (chat.send actions), visit counts and /seen
// kept in SQLite across a restart of the plugin and of the host, /roll with
// its deterministic generator (checked against a reimplementation here),
// /who from the published state, and what happens without each capability.
import { parseManifest } from '../../host/plugins/manifest.js';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginAction } from '../../host/plugins/runtime.js';
import { PluginHost } from '../../host/plugins/runtime.js';
import { SqliteKvStore, type KvStore } from '../../host/plugins/storage.js';
import { captureLogger, guestWasm, shippedManifest } from './helpers.js';

const test = suite('guests: hearthbot');

const ann = { id: 1, name: 'ann' };
const bob = { id: 2, name: 'bob' };
const T0 = 1_700_000_000_000;
const MIN = 60_000;

const state = {
  channels: [
    { id: 1, name: 'Lobby', parentId: null },
    { id: 2, name: 'Games', parentId: 1 },
    { id: 3, name: 'Quiet', parentId: 1 },
  ],
  users: [
    { id: 1, name: 'ann', channelId: 1 },
    { id: 2, name: 'bob', channelId: 2, muted: true },
    { id: 3, name: 'cy', channelId: 1 },
  ],
};

interface Bot {
  host: PluginHost;
  actions: PluginAction[];
  log: ReturnType<typeof captureLogger>;
  /** The text of every chat.send so far. */
  said(): string[];
  cmd(command: string, args: string, ts?: number, user?: { id: number; name: string }): Promise<string | null>;
  join(user: { id: number; name: string }, channelId: number, ts: number): Promise<void>;
}

async function startBot(opts: { kv?: KvStore; config?: Record<string, unknown>; grants?: string[] } = {}): Promise<Bot> {
  const log = captureLogger();
  const host = new PluginHost({ logger: log.logger, ...(opts.kv ? { kv: opts.kv } : {}) });
  const actions: PluginAction[] = [];
  host.on('action', (a: PluginAction) => actions.push(a));
  const shipped = shippedManifest('hearthbot');
  // What the bot answers is under test here, not how fast: time limits that a
  // loaded 2-core machine cannot trip (a late command is dropped, and enough
  // of them disable the bot; bench/plugin-call measures its speed).
  const m = parseManifest({ ...shipped, limits: { ...shipped.limits, callMs: 1000, killMs: 5000 } });
  await host.load({ manifest: m, wasm: guestWasm('hearthbot'), grants: opts.grants ?? m.capabilities, config: opts.config ?? {} });
  return {
    host,
    actions,
    log,
    said: () => actions.map((a) => (a.effect.kind === 'chat.send' ? a.effect.text : `<${a.effect.kind}>`)),
    cmd: async (command, args, ts = T0, user = ann) => (await host.command({ command, args, user, channelId: 1, ts }))?.reply ?? null,
    join: (user, channelId, ts) => host.join({ user, channelId, ts }),
  };
}

// ---- the generator of /roll, reimplemented (SplitMix64, sdk/assembly/rng.ts) ----

const M64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;
function mix(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}
function fnv1a(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * 0x100000001b3n) & M64;
  return h;
}
function expectedRolls(ts: number, userId: number, dice: number, sides: number): number[] {
  let st = mix(BigInt(Math.trunc(ts)) ^ mix((BigInt(userId) + GOLDEN) & M64)) ^ fnv1a('roll');
  const span = BigInt(sides);
  const reject = ((1n << 64n) - span) % span;
  const out: number[] = [];
  for (let i = 0; i < dice; i++) {
    let x: bigint;
    do {
      st = (st + GOLDEN) & M64;
      x = mix(st);
    } while (x < reject);
    out.push(Number(1n + (x % span)));
  }
  return out;
}

// ---- greeting and storage -----------------------------------------------------

test('greets joiners in their channel, counts visits, and remembers them across a restart (SQLite)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-bot-'));
  const dbPath = join(dir, 'hearth.db');
  let db = new Database(dbPath);
  let bot = await startBot({ kv: new SqliteKvStore(db) });
  try {
    bot.host.publishState(state);
    await bot.join(ann, 1, T0);
    assert.equal(bot.actions, [
      { pluginId: 'hearthbot', effect: { kind: 'chat.send', text: 'Welcome, ann! Try /roll 2d6, /who or /seen NAME.', channelId: 1 } },
    ]);
    // A move 1 minute later is the same visit: no greeting, not counted.
    await bot.join(ann, 2, T0 + MIN);
    assert.is(bot.actions.length, 1, 'no greeting within greetCooldownMs');
    // 10 minutes later: a new visit.
    await bot.join(ann, 2, T0 + 11 * MIN);
    assert.equal(bot.actions[1], { pluginId: 'hearthbot', effect: { kind: 'chat.send', text: 'Welcome back, ann! You have joined 2 times.', channelId: 2 } });
    await bot.join(bob, 3, T0 + 12 * MIN);
    assert.is(bot.said()[2], 'Welcome, bob! Try /roll 2d6, /who or /seen NAME.', 'another user has a count of their own');

    const rows = db.prepare("SELECT key, value FROM plugin_kv WHERE plugin_id = 'hearthbot' ORDER BY key").all() as { key: string; value: string }[];
    assert.equal(rows.map((r) => r.key), ['joins:1', 'joins:2', 'seen:ann', 'seen:bob']);
    assert.is(rows[0]!.value, '2');
    assert.equal(JSON.parse(rows[3]!.value), { name: 'bob', id: 2, ts: T0 + 12 * MIN, channelId: 3, channel: 'Quiet' });

    // Restart everything: a new host, a new connection to the same database file.
    await bot.host.close();
    db.close();
    db = new Database(dbPath);
    bot = await startBot({ kv: new SqliteKvStore(db) });
    bot.host.publishState({ ...state, users: [state.users[0]] });
    assert.is(await bot.cmd('seen', 'bob', T0 + 17 * MIN), 'bob was last seen joining Quiet 5 minutes ago.');
    assert.is(await bot.cmd('seen', 'BOB', T0 + 12 * MIN + 3 * 3_600_000), 'bob was last seen joining Quiet 3 hours ago.', 'names are case-insensitive');
    await bot.join(ann, 1, T0 + 60 * MIN);
    assert.equal(bot.said(), ['Welcome back, ann! You have joined 3 times.']);
    const count = db.prepare("SELECT value FROM plugin_kv WHERE plugin_id = 'hearthbot' AND key = 'joins:1'").get() as { value: string };
    assert.is(count.value, '3');
  } finally {
    await bot.host.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/seen: online users, unknown names, yourself, usage', async () => {
  const bot = await startBot();
  try {
    bot.host.publishState(state);
    assert.is(await bot.cmd('seen', 'Bob'), 'bob is online now, in Games.');
    assert.is(await bot.cmd('seen', 'zed'), 'I have not seen zed.');
    assert.is(await bot.cmd('seen', 'ann'), 'You are right here, ann.');
    assert.is(await bot.cmd('seen', ''), 'Usage: /seen NAME');
    await bot.join({ id: 9, name: 'dee' }, 3, T0);
    assert.is(await bot.cmd('seen', 'dee', T0 + 30_000), 'dee was last seen joining Quiet 30 seconds ago.');
    assert.is(await bot.cmd('seen', 'dee', T0 + 1 * MIN), 'dee was last seen joining Quiet 1 minute ago.');
    assert.is(await bot.cmd('seen', 'dee', T0 + 3 * 86_400_000), 'dee was last seen joining Quiet 3 days ago.');
  } finally {
    await bot.host.close();
  }
});

test('config: greet off, custom greetings with {channel} and {count}, cooldown 0', async () => {
  let bot = await startBot({ config: { greet: false } });
  try {
    bot.host.publishState(state);
    await bot.join(ann, 1, T0);
    assert.equal(bot.actions, [], 'greet: false posts nothing');
    await bot.host.close();
    bot = await startBot({ config: { greeting: 'Hi {name}, this is {channel} (#{count})', greetingBack: '{name} again in {channel}: {count}', greetCooldownMs: 0 } });
    bot.host.publishState(state);
    await bot.join(ann, 2, T0);
    await bot.join(ann, 1, T0 + 1);
    await bot.join(ann, 1, T0 + 2);
    assert.equal(bot.said(), ['Hi ann, this is Games (#1)', 'ann again in Lobby: 2', 'ann again in Lobby: 3']);
  } finally {
    await bot.host.close();
  }
});

// ---- /roll --------------------------------------------------------------------

test('/roll NdM: rolls in range, the sum, deterministic from (ts, user id)', async () => {
  const bot = await startBot();
  try {
    const r = await bot.cmd('roll', '2d6', T0);
    const m = /^ann rolls 2d6: (\d+) \+ (\d+) = (\d+)$/.exec(r ?? '');
    assert.ok(m, `reply: ${r}`);
    const [a, b, sum] = [Number(m![1]), Number(m![2]), Number(m![3])];
    assert.ok(a >= 1 && a <= 6 && b >= 1 && b <= 6);
    assert.is(sum, a + b);
    assert.equal([a, b], expectedRolls(T0, ann.id, 2, 6), 'SplitMix64 seeded from ts and user id');
    assert.is(await bot.cmd('roll', '2d6', T0), r, 'same event, same roll');

    const big = await bot.cmd('roll', '100d1000', T0 + 7, bob);
    const want = expectedRolls(T0 + 7, bob.id, 100, 1000);
    assert.is(big, `bob rolls 100d1000: ${want.join(' + ')} = ${want.reduce((x, y) => x + y, 0)}`);
    assert.is(await bot.cmd('roll', 'd20', T0), `ann rolls 1d20: ${expectedRolls(T0, 1, 1, 20)[0]}`, 'N defaults to 1');
    assert.is(await bot.cmd('roll', '', T0), `ann rolls 1d6: ${expectedRolls(T0, 1, 1, 6)[0]}`, 'no argument: 1d6');
    assert.match((await bot.cmd('roll', '3D4', T0))!, /^ann rolls 3d4: \d \+ \d \+ \d = \d+$/);
  } finally {
    await bot.host.close();
  }
});

test('/roll validates N 1..100 and M 2..1000', async () => {
  const bot = await startBot();
  try {
    const usage = 'Usage: /roll NdM, e.g. /roll 2d6 (N 1-100 dice, M 2-1000 sides).';
    for (const bad of ['0d6', '101d6', '2d1', '2d1001', '2d0', 'abc', '2d', 'd', '2d6d', '-1d6', '2d-6', '1.5d6', '2 d6', '9999999d6', '2x6']) {
      assert.is(await bot.cmd('roll', bad), usage, bad);
    }
    for (const good of ['1d2', '100d6', '1d1000', '100d1000']) assert.match((await bot.cmd('roll', good))!, /^ann rolls /, good);
  } finally {
    await bot.host.close();
  }
});

test('/roll: every face comes up, roughly evenly, over many events', async () => {
  const bot = await startBot();
  try {
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 600; i++) {
      const r = await bot.cmd('roll', '1d6', T0 + i * 1000 + (i % 7), { id: i % 5, name: 'u' });
      const face = Number(/: (\d)$/.exec(r ?? '')?.[1]);
      counts[face - 1]!++;
    }
    for (const c of counts) assert.ok(c >= 60 && c <= 140, `counts ${counts.join(',')}`);
  } finally {
    await bot.host.close();
  }
});

// ---- /who ---------------------------------------------------------------------

test('/who lists who is online and where, in channel order, from the newest state', async () => {
  const bot = await startBot();
  try {
    bot.host.publishState(state);
    assert.is(await bot.cmd('who', ''), '3 online. Lobby: ann, cy. Games: bob (muted).');
    bot.host.publishState({ channels: state.channels, users: [{ id: 4, name: 'dee', channelId: 3 }, { id: 5, name: 'eve', channelId: 99 }] });
    assert.is(await bot.cmd('who', ''), '2 online. Quiet: dee. #99: eve.');
    bot.host.publishState({ channels: state.channels, users: [] });
    assert.is(await bot.cmd('who', ''), 'Nobody is online.');
  } finally {
    await bot.host.close();
  }
});

// ---- capabilities -------------------------------------------------------------

test('asks for exactly the capabilities it uses; degrades without each', async () => {
  assert.equal(shippedManifest('hearthbot').capabilities, ['state.read', 'chat.inject', 'storage', 'config.read']);

  // Without storage: still greets, but every visit is a first one; writes are denied.
  let bot = await startBot({ grants: ['state.read', 'chat.inject', 'config.read'] });
  try {
    bot.host.publishState(state);
    await bot.join(ann, 1, T0);
    await bot.join(ann, 1, T0 + 60 * MIN);
    assert.equal(bot.said(), ['Welcome, ann! Try /roll 2d6, /who or /seen NAME.', 'Welcome, ann! Try /roll 2d6, /who or /seen NAME.']);
    assert.ok(bot.log.lines.some((l) => l.plugin === 'hearthbot' && l.capability === 'storage' && /denied/.test(l.msg)), 'denial logged');
    await bot.host.close();

    // Without chat.inject: the greeting is refused by the host; nothing is sent.
    bot = await startBot({ grants: ['state.read', 'storage', 'config.read'] });
    await bot.join(ann, 1, T0);
    assert.equal(bot.actions, []);
    assert.ok(bot.log.lines.some((l) => l.capability === 'chat.inject' && /denied/.test(l.msg)));
    await bot.host.close();

    // Without state.read: no on_join at all, and /who says why.
    bot = await startBot({ grants: ['chat.inject', 'storage', 'config.read'] });
    assert.equal(bot.host.info('hearthbot').hooks, ['on_command']);
    assert.is(await bot.cmd('who', ''), 'I cannot see who is online (the state.read capability was not granted).');
    assert.is(await bot.cmd('roll', '1d2', T0), `ann rolls 1d2: ${expectedRolls(T0, 1, 1, 2)[0]}`, '/roll needs no capability');
    await bot.host.close();

    // Without config.read: the manifest defaults are built in.
    bot = await startBot({ grants: ['state.read', 'chat.inject', 'storage'], config: { greeting: 'not seen' } });
    await bot.join(ann, 1, T0);
    assert.equal(bot.said(), ['Welcome, ann! Try /roll 2d6, /who or /seen NAME.']);
  } finally {
    await bot.host.close();
  }
});

test.run();
