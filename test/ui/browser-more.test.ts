// More of the desktop UI in a real browser (headless Chromium driven by
// playwright-core, the real page served by real `hearth client --no-window`
// processes, a real server): register with an invite; as a moderator create,
// rename, move and delete channels; send and receive a direct message;
// per-user volume and local mute; server-mute a user (both pages show it);
// ban a user with a duration and reason (the banned user's page shows the
// reason and the expiry); push-to-talk with a held key; and a layout plugin
// that fails (test/plugins/guests/build/badlayout.wasm via --layout) falling
// back to the built-in layout with a visible notice.
// Screenshots: ARTIFACTS (helpers/browser.ts), named more-*.png.
//
// Without /usr/bin/chromium this FAILS, naming scripts/ensure-chromium.sh.
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { ServerMessage, WelcomeResult } from '../../host/protocol/server-messages.js';
import { connect, createUser, PASSWORD, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, launchBrowser, repoRoot, screenshot, screenshots, until } from './helpers/browser.js';
import { startDesktop, type Desktop } from './helpers/desktop.js';

const T = 10_000; // per UI expectation
const started = Date.now();

let t: TestServer; // registration by invite only
let t3: TestServer; // named "trap": the bad layout guest traps on it
let browser: Browser | null = null;
let ctx: BrowserContext;
let page: Page; // ann: registers with a moderator invite
let pageCy: Page; // cy: server-muted, then banned
let desktop: Desktop | null = null;
let desktopCy: Desktop | null = null;
let desktopBad: Desktop | null = null;
let bob: ControlClient;
let bobWelcome: WelcomeResult;
let rootName = '';
let invite = '';

// uvu swallows the message of an error thrown in a before hook: keep it and fail every test with it.
let setupError: Error | null = null;
let failures = 0;
/** A test that fails with a screenshot and the page's accessibility tree (artifacts: FAILED-more-n.png). */
function step(name: string, fn: () => Promise<void>, which: () => Page = () => page): void {
  test(name, async () => {
    if (setupError) throw setupError;
    const t0 = Date.now();
    try {
      await fn();
      process.stderr.write(`browser-more: ${((Date.now() - t0) / 1000).toFixed(1)} s: ${name}\n`);
    } catch (err) {
      failures++;
      try {
        const p = which();
        await screenshot(p, `FAILED-more-${failures}`);
        const tree = await p.locator('body').ariaSnapshot({ timeout: 2000 });
        (err as Error).message += `\n--- page (accessibility tree) at the failure, screenshot FAILED-more-${failures}.png:\n${tree.slice(0, 4000)}`;
      } catch {
        /* the page itself is gone */
      }
      throw err;
    }
  });
}

/** The page has a snapshot and the layout's tree. */
async function settled(p: Page): Promise<void> {
  await until(p, '!!(window.__HEARTH_PAGE__ && window.__HEARTH_PAGE__.store.snapshot && window.__HEARTH_PAGE__.store.layout)');
  await p.waitForTimeout(100);
}

/** A JavaScript expression on the page's newest snapshot (`s`). */
const onSnapshot = (expr: string) => `(() => { const s = window.__HEARTH_PAGE__ && window.__HEARTH_PAGE__.store.snapshot; return !!s && (${expr}); })()`;

/**
 * Fills the connect form and submits it (retrying when a re-render lost what
 * was typed, as browser.test.ts does). `invite`: register with it.
 */
async function fillAndConnect(p: Page, port: number, username: string, opts: { invite?: string } = {}): Promise<void> {
  if (opts.invite !== undefined) {
    await p.getByLabel('Register with an invite', { exact: true }).check();
    await p.getByLabel('Invite code', { exact: true }).waitFor();
  }
  const fields: [string, string][] = [['Server address', '127.0.0.1'], ['Port', String(port)], ['Username', username], ['Password', PASSWORD]];
  if (opts.invite !== undefined) fields.push(['Invite code', opts.invite]);
  for (let attempt = 1; ; attempt++) {
    for (const [label, value] of fields) await p.getByLabel(label, { exact: true }).fill(value);
    let kept = true;
    for (const [label, value] of fields) kept &&= (await p.getByLabel(label, { exact: true }).inputValue()) === value;
    if (kept) {
      await p.getByRole('button', { name: opts.invite !== undefined ? 'Register and connect' : 'Connect', exact: true }).click();
      await p.waitForTimeout(150);
      // The page marks a field it found empty (what it read) aria-invalid; without one, it sent the connect. (The form may be gone already.)
      if ((await p.locator('form[aria-label="Connect to a server"] [aria-invalid=true]').count()) === 0) return;
    }
    if (attempt === 3) throw new Error('the connect form kept losing what was typed into it (3 attempts)');
    process.stderr.write(`browser-more: the connect form lost typed values (attempt ${attempt}); typing again\n`);
    await settled(p);
  }
}

/**
 * Types into an inline form's field and submits it; retried (at most 3 times)
 * when the field lost what was typed before the submit (then no request is
 * sent and `done` never shows), which a re-render under way can do.
 */
async function submitInline(scope: Locator, label: string, value: string | null, button: string, done: Locator, what: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (value !== null) await scope.getByLabel(label, { exact: true }).fill(value);
    const kept = value === null || (await scope.getByLabel(label, { exact: true }).inputValue()) === value;
    if (kept) await scope.getByRole('button', { name: button, exact: true }).click();
    try {
      await done.waitFor({ timeout: attempt === 3 ? T : 2500 });
      return;
    } catch (err) {
      if (attempt === 3) throw err;
      process.stderr.write(`browser-more: ${what}: nothing happened after "${button}" (the field ${kept ? 'kept' : 'lost'} the typed value); attempt ${attempt + 1}\n`);
    }
  }
}

const connectedStatus = (p: Page) => p.getByRole('status').filter({ hasText: /^\s*Connected\b/ }).first();
const channelsNav = (p: Page) => p.getByRole('navigation', { name: 'Channels' });

test.before(async () => {
  try {
    browser = await launchBrowser();
    t = await startServer({ registration: 'invite' });
    t3 = await startServer({ serverName: 'trap' });
    // A single-use invite that makes its holder a moderator (as invite.create does, straight in the store).
    invite = randomBytes(18).toString('base64url');
    t.server.store.invites.create(invite, 'moderator', null, null, 1);
    await createUser(t, 'bob', 'member');
    await createUser(t, 'cy', 'member');
    await createUser(t, 'root', 'admin');
    await createUser(t3, 'ann', 'member');
    bob = await connect(t);
    bobWelcome = await bob.login('bob', PASSWORD);
    rootName = bobWelcome.channels.find((c) => c.parentId === null)!.name;
    // ann's desktop pins nothing (she sees the first-use prompt); cy's has the server pinned.
    [desktop, desktopCy] = await Promise.all([startDesktop(), startDesktop({ knownHosts: { [`127.0.0.1:${t.port}`]: t.fingerprint } })]);
    ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await ctx.newPage();
    page.setDefaultTimeout(T);
    process.stderr.write(`browser-more: ${((Date.now() - started) / 1000).toFixed(1)} s: setup\n`);
  } catch (err) {
    setupError = err as Error;
    process.stderr.write(`browser-more setup failed: ${(err as Error).stack ?? String(err)}\n`);
  }
});

test.after(async () => {
  bob?.close();
  await browser?.close();
  await Promise.all([desktop?.stop(), desktopCy?.stop(), desktopBad?.stop()]);
  await t?.stop();
  await t3?.stop();
  process.stdout.write(`\nbrowser-more: ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${ARTIFACTS}:\n${screenshots.map((s) => `  ${s}`).join('\n')}\n`);
});

step('register a new account with an invite (the server takes invites only); it gets the invite\'s role', async () => {
  await page.goto(desktop!.url);
  await settled(page);
  await page.getByRole('form', { name: 'Connect to a server' }).waitFor();
  await fillAndConnect(page, t.port, 'ann', { invite });
  await screenshot(page, 'more-01-register-invite');
  const prompt = page.getByRole('alertdialog', { name: /first connection/i });
  await prompt.or(connectedStatus(page)).first().waitFor();
  if (await prompt.isVisible()) await page.getByRole('button', { name: 'Accept and connect' }).click();
  await connectedStatus(page).waitFor();
  await channelsNav(page).waitFor();
  await settled(page);
  const ann = t.server.store.users.findByName('ann');
  assert.ok(ann, 'the account exists on the server');
  assert.is(ann!.role, 'moderator', "the invite's role");
  await page.getByRole('button', { name: /^ann \(you\), moderator/ }).waitFor();
  // The invite is used up: a second registration with it is refused.
  const other = await connect(t);
  try {
    await other.register('eve', PASSWORD, { invite }).then(
      () => assert.unreachable('a used invite registered a second account'),
      (err: Error) => assert.match(String((err as { code?: string }).code ?? err.message), /INVITE|invite/),
    );
  } finally {
    other.close();
  }
});

step('as a moderator: create, rename, move and delete channels', async () => {
  const manage = async (name: string) => {
    const btn = page.getByRole('button', { name: `Manage ${name}`, exact: true });
    if ((await btn.getAttribute('aria-expanded')) !== 'true') await btn.click();
    const g = page.getByRole('group', { name: `Manage channel ${name}`, exact: true });
    await g.waitFor();
    return g;
  };
  const t0 = Date.now();
  const mark = (what: string) => process.stderr.write(`browser-more:   ${((Date.now() - t0) / 1000).toFixed(1)} s ${what}\n`);
  const idOf = async (name: string): Promise<number> => (await page.evaluate(`window.__HEARTH_PAGE__.store.snapshot.channels.find((c) => c.name === ${JSON.stringify(name)})?.id ?? 0`)) as number;
  // Create two sub-channels of the root.
  for (const name of ['Lobby2', 'Raid']) {
    await submitInline(await manage(rootName), 'New sub-channel', name, 'Create', channelsNav(page).getByRole('button', { name: new RegExp(`^Join ${name}\\b`) }), `create ${name}`);
  }
  await page.getByRole('status', { name: 'Results' }).getByText(/Done: create Raid/).waitFor();
  mark('created');
  // Rename Lobby2 to Lounge.
  await submitInline(await manage('Lobby2'), 'New name', 'Lounge', 'Rename', channelsNav(page).getByRole('button', { name: /^Join Lounge\b/ }), 'rename Lobby2');
  await channelsNav(page).getByRole('button', { name: /^Join Lobby2\b/ }).waitFor({ state: 'detached' });
  mark('renamed');
  // Move Raid under Lounge.
  const lounge = await idOf('Lounge');
  let g = await manage('Raid');
  await g.getByLabel('Move under').selectOption({ label: 'Lounge' });
  await submitInline(g, 'Move under', null, 'Move', page.getByRole('status', { name: 'Results' }).getByText('Done: move Raid.'), 'move Raid');
  await until(page, onSnapshot(`s.channels.some((c) => c.name === 'Raid' && c.parentId === ${lounge})`), T);
  // ... drawn nested: Raid's row is inside Lounge's sub-tree.
  await page.locator('li.channel', { has: page.locator(':scope > .channel-row').getByRole('button', { name: /^Join Lounge\b/ }) }).locator('ul[role=group]').getByRole('button', { name: /^Join Raid\b/ }).waitFor();
  await screenshot(page, 'more-02-channels-managed');
  mark('moved');
  // Delete Raid, after the confirmation.
  g = await manage('Raid');
  await g.getByRole('button', { name: 'Delete channel Raid' }).click();
  await page.getByRole('group', { name: 'Confirm delete' }).getByRole('button', { name: 'Yes, delete' }).click();
  await channelsNav(page).getByRole('button', { name: /^Join Raid\b/ }).waitFor({ state: 'detached' });
  await until(page, onSnapshot(`!s.channels.some((c) => c.name === 'Raid')`), T);
  mark('deleted');
  // The server agrees: bob (another client) sees Lounge and no Raid.
  const list = (await bob.request<{ channels?: { name: string }[] }>('channel.list', {}).catch(() => null))?.channels;
  if (list) {
    assert.ok(list.some((c) => c.name === 'Lounge'));
    assert.not.ok(list.some((c) => c.name === 'Raid'));
  }
});

/** Each online user's rows in the drawn channel tree: [channel name of the row's channel] per user. */
const TREE_ROWS = `(() => {
  const out = {};
  for (const row of document.querySelectorAll('nav.channels li.user')) {
    const ch = row.closest('li.channel');
    const name = ch && ch.querySelector(':scope > .channel-row button.join');
    const who = row.querySelector('button.user-btn').getAttribute('aria-label').split(/[ ,]/)[0];
    (out[who] = out[who] || []).push(name ? name.textContent.trim().replace(/\\s*\\d+$/, '') : '?');
  }
  return out;
})()`;

step('after those channel changes, the drawn tree shows every user once, in their own channel', async () => {
  const want = (await page.evaluate(
    `(() => { const s = window.__HEARTH_PAGE__.store.snapshot; const o = {}; for (const u of s.users) o[u.username] = [s.channels.find((c) => c.id === u.channelId).name]; return o; })()`,
  )) as Record<string, string[]>;
  // Give the page a few frames, then compare what it drew with its own snapshot.
  await page.waitForTimeout(300);
  const drawn = (await page.evaluate(TREE_ROWS)) as Record<string, string[]>;
  assert.equal(drawn, want, `the channel tree as drawn (user -> channels of their rows) against the snapshot: ${JSON.stringify(drawn)} vs ${JSON.stringify(want)}`);
});

/** A fresh page (reload): the later steps do not depend on how earlier ones left the DOM. */
async function fresh(p: Page): Promise<void> {
  await p.reload();
  await settled(p);
  await connectedStatus(p).waitFor();
  await channelsNav(p).waitFor();
  await drawRate(p);
}

/** Logs how hard the page works while connected (snapshots received and drawn per second, draw times). */
async function drawRate(p: Page): Promise<void> {
  const q = `(() => { const s = window.__HEARTH_PAGE__.store; return [s.received, s.frames, s.drawMs, s.maxDrawMs, performance.now()]; })()`;
  const a = (await p.evaluate(q)) as number[];
  await p.waitForTimeout(1000);
  const b = (await p.evaluate(q)) as number[];
  const sec = (b[4]! - a[4]!) / 1000;
  process.stderr.write(`browser-more: the page receives ${((b[0]! - a[0]!) / sec).toFixed(0)} snapshots/s and draws ${((b[1]! - a[1]!) / sec).toFixed(0)}/s (last draw ${b[2]!.toFixed(1)} ms, longest ${b[3]!.toFixed(1)} ms)\n`);
}

step('direct messages: send one to bob, and receive his answer', async () => {
  await fresh(page);
  await page.getByLabel('Conversation', { exact: true }).selectOption({ label: 'Direct: bob' });
  const log = page.getByRole('log', { name: 'Messages in bob' });
  await log.waitFor();
  const got = bob.waitFor((m: ServerMessage) => m.type === 'chat.message' && m.message.text === 'psst, bob' && m.message.recipientId === bobWelcome.self.userId, T);
  got.catch(() => undefined);
  await page.getByLabel(/^Message to bob/).fill('psst, bob');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const m = (await got) as Extract<ServerMessage, { type: 'chat.message' }>;
  assert.is(m.message.channelId, null, 'a direct message, not a channel one');
  const annId = t.server.store.users.findByName('ann')!.id;
  await bob.request('chat.direct', { userId: annId, text: 'hi ann, only you can read this' });
  await log.getByText('hi ann, only you can read this').waitFor();
  await log.getByText('psst, bob').waitFor();
  await screenshot(page, 'more-03-direct-message');
  // The channel conversation does not show it.
  await page.getByLabel('Conversation', { exact: true }).selectOption('channel');
  const chan = page.getByRole('log', { name: new RegExp(`^Messages in #`) });
  await chan.waitFor();
  assert.is(await chan.getByText('psst, bob').count(), 0, 'the direct message is not in the channel log');
});

step('per-user volume and local mute change the state (and what the channel tree says)', async () => {
  await channelsNav(page).getByRole('button', { name: /^bob\b/ }).click();
  const vol = page.getByLabel('Volume of bob', { exact: true });
  await vol.fill('50');
  await until(page, onSnapshot(`s.users.some((u) => u.username === 'bob' && Math.abs(u.volume - 0.5) < 0.001)`), T);
  assert.is(await vol.getAttribute('aria-valuetext'), '50 %');
  const mute = page.getByLabel('Mute bob for me', { exact: true });
  // click, not check(): the box shows the core's state, so it flips when the snapshot with the change arrives (not at once).
  await mute.click();
  await until(page, onSnapshot(`s.users.some((u) => u.username === 'bob' && u.localMuted === true)`), T);
  await channelsNav(page).getByRole('button', { name: /^bob\b.*muted by you/ }).waitFor();
  await screenshot(page, 'more-04-user-volume-local-mute');
  // bob's own client is not told: local settings stay local.
  assert.not.ok(t.server.hub.online.find((o) => o.session.username === 'bob')?.session.serverMute, 'not a server mute');
  assert.ok(await mute.isChecked());
  await mute.click();
  await until(page, onSnapshot(`s.users.some((u) => u.username === 'bob' && u.localMuted === false)`), T);
  await vol.fill('100');
  await until(page, onSnapshot(`s.users.some((u) => u.username === 'bob' && Math.abs(u.volume - 1) < 0.001)`), T);
});

step('server-mute: the moderator mutes cy; both pages show it', async () => {
  // Its own browser context (window): a second tab of one context is a background tab, whose animation frames Chromium throttles to about 1/s.
  pageCy = await (await browser!.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  pageCy.setDefaultTimeout(T);
  await pageCy.goto(desktopCy!.url);
  await settled(pageCy);
  await fillAndConnect(pageCy, t.port, 'cy');
  await connectedStatus(pageCy).waitFor();
  await channelsNav(page).getByRole('button', { name: /^cy\b/ }).click();
  await page.getByRole('button', { name: 'Server-mute cy' }).click();
  await channelsNav(page).getByRole('button', { name: /^cy\b.*server-muted/ }).waitFor();
  await page.getByRole('button', { name: 'Server-mute cy', pressed: true }).waitFor();
  await channelsNav(pageCy).getByRole('button', { name: /^cy \(you\).*server-muted/ }).waitFor();
  assert.ok(t.server.hub.online.find((o) => o.session.username === 'cy')?.session.serverMute, 'the server has cy muted');
  await screenshot(page, 'more-05-server-mute');
  await screenshot(pageCy, 'more-05b-server-muted-self');
}, () => pageCy);

step("ban cy for 1 hour with a reason: cy's page shows the reason and the expiry, and stays usable", async () => {
  await page.getByLabel('Reason', { exact: true }).fill('spamming the lobby');
  await page.getByLabel('Ban duration', { exact: true }).selectOption({ label: '1 hour' });
  // The page bans the session, so the server bans its address too; here every
  // client is on 127.0.0.1, and a moderator may not ban their own address: refused, and the page says so.
  await page.getByRole('button', { name: 'Ban cy', exact: true }).click();
  await page.getByRole('status', { name: 'Results' }).getByText(/Could not ban cy: .*own address/).waitFor();
  // The account alone, then: a moderator may ban a member's account (the others on that address stay welcome).
  await page.getByRole('checkbox', { name: "Also ban cy's IP address" }).uncheck();
  await page.getByLabel('Reason', { exact: true }).fill('spamming the lobby');
  await page.getByLabel('Ban duration', { exact: true }).selectOption({ label: '1 hour' });
  const before = Date.now();
  await page.getByRole('button', { name: 'Ban cy', exact: true }).click();
  const banned = pageCy.getByText(/^You are banned from this server/).first();
  await banned.waitFor();
  const text = await banned.innerText();
  assert.match(text, /You are banned from this server/);
  assert.match(text, /spamming the lobby/, 'the reason');
  assert.match(text, /The ban ends .*\d/, 'the expiry');
  const ban = t.server.store.bans.listActive().find((b) => b.reason === 'spamming the lobby');
  assert.ok(ban && ban.expiresAt !== null, 'a ban with an expiry on the server');
  assert.is(ban!.ip, null, 'the account only: no address banned');
  assert.ok(Math.abs(ban!.expiresAt! - (before + 3600_000)) < 60_000, `expires in an hour: ${new Date(ban!.expiresAt!).toISOString()}`);
  // The shown expiry is that time, in the page's own locale.
  const shown = (await pageCy.evaluate(`new Date(${ban!.expiresAt}).toLocaleString()`)) as string;
  assert.ok(text.includes(shown), `the expiry ${shown} in: ${text}`);
  // The errors panel says it too, and the connect form is back (usable).
  assert.ok(await banned.isVisible(), 'shown, not only announced');
  await pageCy.getByRole('form', { name: 'Connect to a server' }).waitFor();
  await screenshot(pageCy, 'more-06-banned');
  // ann sees cy gone, and the result of her request stays in view.
  await channelsNav(page).getByRole('button', { name: /^cy\b/ }).waitFor({ state: 'detached' });
  await page.getByRole('status', { name: 'Results' }).getByText('Done: ban cy (account only).').waitFor();
  await screenshot(page, 'more-06b-after-ban');
}, () => pageCy);

step('push-to-talk: switch to PTT, hold the key: transmitting and my own light on; release: off', async () => {
  // The radio shows the core's state, which comes back a snapshot later: click, then wait for
  // the state (Playwright's check() gives up when the state has not changed by the time it looks).
  await page.getByLabel('Push to talk', { exact: true }).click();
  await until(page, onSnapshot(`s.audio.mode === 'ptt'`), T);
  await page.getByRole('button', { name: 'Hold to talk' }).waitFor();
  const key = (await page.evaluate(onSnapshot('true') + ` && window.__HEARTH_PAGE__.store.snapshot.pttKey`)) as string;
  assert.is(key, 'Space', 'the default key');
  // Focus on the page itself, not on a text field (typing never talks).
  await page.bringToFront();
  await page.locator('h1').click();
  await page.keyboard.down('Space');
  await until(page, onSnapshot(`s.audio.pttDown === true && s.audio.transmitting === true && s.speaking.includes(s.self.sessionId)`), T);
  // Drawn: the button pressed, "Sending voice", my own light on (and said in my row's name).
  await until(
    page,
    `(() => { const b = Array.from(document.querySelectorAll('button.ptt-btn')).find((x) => x.getAttribute('aria-pressed') === 'true');
      const tx = Array.from(document.querySelectorAll('[role=status]')).some((x) => /Sending voice/.test(x.textContent));
      const me = document.querySelector('nav.channels li.user.me[data-speaking="true"] button.user-btn');
      const name = me ? me.getAttribute('aria-label') : ''; return !!b && tx && name.startsWith('ann (you)') && name.includes('speaking'); })()`,
    T,
  );
  await screenshot(page, 'more-07-push-to-talk-held');
  const me = channelsNav(page).locator('li.user.me');
  await page.keyboard.up('Space');
  await until(page, onSnapshot(`s.audio.pttDown === false && s.audio.transmitting === false`), T);
  await page.getByRole('status').filter({ hasText: 'Not sending' }).waitFor();
  assert.is(await me.getAttribute('data-speaking'), 'false');
  // Typing a space into the chat box does not talk.
  await page.getByLabel(/^Message to #/).focus();
  await page.keyboard.down('Space');
  await page.waitForTimeout(200);
  assert.not.ok(await page.evaluate(onSnapshot('s.audio.pttDown')), 'a space typed into a text field is not push-to-talk');
  await page.keyboard.up('Space');
  await page.getByLabel('When I speak (voice activation)', { exact: true }).click();
  await until(page, onSnapshot(`s.audio.mode === 'vad'`), T);
});

step('a layout plugin that fails (--layout badlayout) falls back to the built-in layout with a visible notice', async () => {
  // The manifest and the wasm side by side in a temp dir; the guest traps when the server is named "trap".
  const dir = tempDir('hearth-ui-badlayout-');
  const wasmSrc = join(repoRoot, 'test', 'plugins', 'guests', 'build', 'badlayout.wasm');
  copyFileSync(wasmSrc, join(dir, 'badlayout.wasm'));
  const manifest = join(dir, 'layout-bad.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      manifestVersion: 1,
      id: 'layout-bad',
      name: 'A layout that fails',
      version: '0.0.1',
      wasm: { file: 'badlayout.wasm', sha256: createHash('sha256').update(readFileSync(wasmSrc)).digest('hex') },
      hooks: ['on_layout'],
      capabilities: ['ui.layout'],
      limits: { memoryMiB: 4, callMs: 50, killMs: 1000, overrunLimit: 10, storageKiB: 0 },
    }),
  );
  desktopBad = await startDesktop({ layout: manifest, knownHosts: { [`127.0.0.1:${t3.port}`]: t3.fingerprint } });
  const p = await (await browser!.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  p.setDefaultTimeout(T);
  page = p; // failures screenshot this page
  await p.goto(desktopBad.url);
  await settled(p);
  // Disconnected, the guest answers: its own tree (one chat widget), titled by it.
  await p.getByRole('heading', { name: 'badlayout disconnected', level: 1 }).waitFor();
  await until(p, `window.__HEARTH_PAGE__.store.layoutPlugin === 'layout-bad'`, T);
  await screenshot(p, 'more-08a-bad-layout-working');
  // Its tree has no connect form: connect with the default layout, then choose the bad one again.
  await p.getByLabel('Layout', { exact: true }).selectOption('layout-default');
  await p.getByRole('form', { name: 'Connect to a server' }).waitFor();
  await settled(p);
  await fillAndConnect(p, t3.port, 'ann');
  await connectedStatus(p).waitFor();
  await p.getByLabel('Layout', { exact: true }).selectOption('layout-bad');
  const notice = p.locator('.notice[role=status]').filter({ hasText: /^Layout plugin layout-bad failed/ });
  await notice.waitFor();
  const text = await notice.innerText();
  assert.match(text, /trap/i, `says what went wrong: ${text}`);
  assert.match(text, /showing the built-in layout$/);
  assert.ok(await notice.isVisible(), 'the notice is visible');
  await until(p, `window.__HEARTH_PAGE__.store.layoutPlugin === null`, T);
  // Not blank: the built-in connected layout, everything usable.
  await p.getByRole('heading', { name: 'Hearth: trap', level: 1 }).waitFor();
  await channelsNav(p).getByRole('button', { name: /^ann \(you\)/ }).waitFor();
  await p.getByRole('log', { name: /^Messages in #/ }).waitFor();
  await p.getByRole('button', { name: 'Mute microphone' }).waitFor();
  assert.ok((await p.locator('section.panel').count()) >= 3, 'the built-in layout draws its panels');
  await screenshot(p, 'more-08b-bad-layout-fallback');
});

test.run();
