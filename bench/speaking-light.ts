// How soon the desktop page lights a speaker up (issue 8: "who is speaking
// right now, lit within 100 ms of their audio"). A real server on 127.0.0.1,
// two client cores with virtual devices: ann talks (spurts of 300 ms of tone
// injected into her capture), bob listens with the real desktop page (the
// built dist/ui, served by the real UiServer) open in headless Chromium.
//
// Per spurt, on one clock (epoch ms, performance.timeOrigin + now() on every
// side; one machine):
//   capturedAt  when ann's mic captured the spurt's first sample (her engine)
//   playedAt    when bob's speaker played its first audible sample (his
//               engine's virtual output: the frame's tick time + the offset)
//   flaggedAt   when bob's core published a snapshot with ann speaking
//   litAt       when the page's DOM got ann's row data-speaking="true"
//               (MutationObserver), and paintedAt: the next animation frame
// litAfterAudioMs = litAt - playedAt is the figure the issue names; the
// baseline in the same run is the mouth-to-ear time (playedAt - capturedAt),
// and litAfterAudioMs splits into core (flaggedAt - playedAt) and page
// (litAt - flaggedAt). Also the light going out after the spurt ends.
//
//   node dist/bench/speaking-light.js [spurts]     (default 10)
// Prints one JSON line.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { chromium } from 'playwright-core';
import { loadServerConfig } from '../host/config/server-config.js';
import { HearthServer } from '../host/server/server.js';
import { hashPassword } from '../host/server/password.js';
import { ClientCore } from '../host/client/core/client-core.js';
import { UiServer } from '../host/client/ui/ui-server.js';
import { FRAME_SAMPLES, SAMPLES_PER_MS } from '../host/client/audio/format.js';

const SPURTS = Number(process.argv[2] ?? 10);
const CHROMIUM = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';
const PASSWORD = 'speaking light bench';
const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const SPURT_MS = 300;

function spurt(): Float32Array {
  const n = SPURT_MS * SAMPLES_PER_MS;
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) b[i] = 0.4 * Math.sin((2 * Math.PI * 440 * i) / 48_000) * Math.min(1, i / SAMPLES_PER_MS);
  return b;
}

const now = (): number => performance.timeOrigin + performance.now();
const median = (a: number[]): number => {
  const s = a.filter(Number.isFinite).sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};
const r1 = (x: number): number => Math.round(x * 10) / 10;

if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (as root)`);
const staticDir = join(repoRoot, 'dist', 'ui');
if (!existsSync(join(staticDir, 'index.html'))) throw new Error(`${staticDir}/index.html is missing: run node scripts/build-ui.mjs`);

const dir = mkdtempSync(join(tmpdir(), 'hearth-speaking-'));
const logger = pino({ level: 'silent' });
const server = new HearthServer(loadServerConfig({ host: '127.0.0.1', port: 0, dataDir: dir, log: { level: 'warn', pretty: false } }));
const info = await server.start();
for (const name of ['ann', 'bob']) server.store.users.create(name, await hashPassword(PASSWORD), 'member');

const ann = await ClientCore.start({
  logger,
  knownHostsFile: join(dir, 'a-known.json'),
  capture: { kind: 'virtual' },
  playback: { kind: 'none' },
  settings: { gate: { mode: 'vad', thresholdDb: -40, hangoverMs: 0 } },
});
const bob = await ClientCore.start({ logger, knownHostsFile: join(dir, 'b-known.json'), capture: { kind: 'none' }, playback: { kind: 'virtual' } });
for (const [core, user] of [[ann, 'ann'], [bob, 'bob']] as const) {
  core.push({ type: 'connect', server: { host: '127.0.0.1', port: info.port }, username: user, password: PASSWORD, fingerprint: info.fingerprint });
  await core.state.until((s) => s.connection.status === 'connected');
}
await bob.state.until((s) => s.users.some((u) => u.username === 'ann' && u.voiceToken !== undefined));
const annSession = bob.state.get().users.find((u) => u.username === 'ann')!.sessionId;

// bob's core: when a snapshot first shows ann speaking (and not speaking).
const flagged: number[] = [];
const unflagged: number[] = [];
let flag = false;
bob.state.subscribe((s) => {
  const on = s.speaking.includes(annSession);
  if (on !== flag) (on ? flagged : unflagged).push(now());
  flag = on;
});

const ui = await UiServer.start({ logger, core: bob, layout: null, staticDir });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
await page.addInitScript({
  content: `(() => {
    const w = window;
    w.__LIGHT__ = { lit: [], painted: [], out: [] };
    const at = () => performance.timeOrigin + performance.now();
    new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target;
        if (el.getAttribute('data-session') !== '${annSession}') continue;
        const on = el.getAttribute('data-speaking') === 'true';
        const was = r.oldValue === 'true';
        if (on === was) continue;
        if (on) { w.__LIGHT__.lit.push(at()); requestAnimationFrame(() => w.__LIGHT__.painted.push(at())); }
        else w.__LIGHT__.out.push(at());
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-speaking'], attributeOldValue: true });
  })();`,
});
await page.goto(ui.url);
await page.waitForSelector(`li.user[data-session="${annSession}"]`, { timeout: 15_000 });

const origin = Date.now() + 100;
ann.engine.alignClock(origin);
bob.engine.alignClock(origin);
await new Promise((r) => setTimeout(r, 500));

// One spurt more than measured: the first meets cold code paths.
for (let i = 0; i < SPURTS + 1; i++) {
  ann.engine.injectVirtual(spurt());
  await new Promise((r) => setTimeout(r, SPURT_MS + 900));
}
const da = await ann.engine.dumpVirtual();
const db = await bob.engine.dumpVirtual();
const light = (await page.evaluate('window.__LIGHT__')) as { lit: number[]; painted: number[]; out: number[] };
await browser.close();
await ui.close();
await Promise.all([ann.close(), bob.close()]);
await server.stop();
rmSync(dir, { recursive: true, force: true });

// Played onsets (and ends) of each spurt in bob's output.
const threshold = 0.02;
const played: number[] = [];
const ended: number[] = [];
const frames = db.recorded.length / 2;
let inSpurt = false;
let quiet = 0;
for (let k = 0; k < frames; k++) {
  const loud = Math.max(Math.abs(db.recorded[2 * k]!), Math.abs(db.recorded[2 * k + 1]!)) >= threshold;
  const n = Math.floor(k / FRAME_SAMPLES);
  const t = db.playbackFrameTimes[n]! + (k - n * FRAME_SAMPLES) / SAMPLES_PER_MS;
  if (loud) {
    if (!inSpurt) played.push(t);
    inSpurt = true;
    quiet = 0;
  } else if (inSpurt && ++quiet > 100 * SAMPLES_PER_MS) {
    ended.push(t - 100);
    inSpurt = false;
  }
}

/** For each reference instant, the first event at or after it (within `window` ms). */
function after(refs: number[], events: number[], window = 1000): number[] {
  return refs.map((t) => {
    const e = events.find((x) => x >= t - 5 && x < t + window);
    return e === undefined ? NaN : e - t;
  });
}
// Skip the first (cold) spurt.
const playedM = played.slice(1);
const capturedM = da.injections.map((j) => j.capturedAtMs).slice(1);
const lit = after(playedM, light.lit);
const painted = after(playedM, light.painted);
const core = after(playedM, flagged);
const page_ = playedM.map((t, i) => {
  const f = flagged.find((x) => x >= t - 5 && x < t + 1000);
  const l = light.lit.find((x) => f !== undefined && x >= f && x < f + 1000);
  return f === undefined || l === undefined ? NaN : l - f;
});
const mouthToEar = playedM.map((t, i) => (capturedM[i] !== undefined ? t - capturedM[i]! : NaN));
const out = after(ended.slice(1), light.out, 2000);
const litOk = lit.filter(Number.isFinite);
process.stdout.write(
  JSON.stringify({
    bench: 'speaking-light',
    spurts: playedM.length,
    litAfterAudioMsP50: r1(median(lit)),
    litAfterAudioMsMax: r1(litOk.length ? Math.max(...litOk) : NaN),
    paintedAfterAudioMsP50: r1(median(painted)),
    within100ms: litOk.filter((x) => x <= 100).length,
    missed: lit.length - litOk.length,
    parts: { coreFlagMsP50: r1(median(core)), pageMsP50: r1(median(page_)) },
    outAfterAudioEndMsP50: r1(median(out)),
    baseline: { mouthToEarMsP50: r1(median(mouthToEar)) },
  }) + '\n',
);
process.exit(0);
