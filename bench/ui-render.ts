// The desktop page under load (issue 8: "with state updates arriving at 200/s
// it stays at 60 fps (no long task over 50 ms in a trace)").
//
// The built page (dist/ui) is served by the real UiServer over a real
// WebSocket, with the real layout plugin (layout-default, in its sandbox
// thread) when it is built. A stand-in for the client core publishes the
// newest ClientSnapshot into the same Latest cell the core uses: 200 users in
// 30 nested channels, speaking flags flipping every snapshot, levels and
// jitter-buffer stats moving, and a chat message every 50 ms. Headless
// Chromium (playwright-core, /usr/bin/chromium) draws it. Measured per phase:
//   - frames: a requestAnimationFrame counter installed before the page loads;
//   - long tasks: a Chromium trace (devtools.timeline) of the phase, RunTask
//     events of the renderer's main thread longer than 50 ms; and, as a cross
//     check, PerformanceObserver('longtask') entries;
//   - snapshots drawn: the page's own counter of draws (store.frames);
//   - our code per drawn frame: the page's own timing of its draws (applying
//     what arrived, building the widgets, patching the DOM);
//   - where the main thread's time went: self time per trace event;
//   - snapshots the server sent (UiServer.stats): full ones and patches, and
//     their sizes (the page asks for patches: host/client/ui/patch.ts).
// Phases, same run: "idle" (one snapshot, then none: the baseline), then
// "load" (200/s for --seconds).
//
//   node dist/bench/ui-render.js [--seconds 5] [--rate 200] [--users 200] [--channels 30]
//                                [--profile] [--trace-out FILE]
//
// Prints one JSON line.
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ClientAction } from '../host/client/core/actions.js';
import { Latest } from '../host/client/core/latest.js';
import { emptySnapshot, type ClientSnapshot, type UserSnapshot } from '../host/client/core/snapshot.js';
import { compactSnapshot } from '../host/client/ui/compact.js';
import { LayoutHost, shippedLayouts } from '../host/client/ui/layout-host.js';
import { UiServer } from '../host/client/ui/ui-server.js';
import type { ChannelView, ChatMessageView } from '../host/protocol/server-messages.js';

const CHROMIUM = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';
const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

const SECONDS = arg('seconds', 5);
const RATE = arg('rate', 200);
const USERS = arg('users', 200);
const CHANNELS = arg('channels', 30);
const IDLE_SECONDS = Math.min(3, SECONDS);
/** --invalidations: also traces what invalidated layout and style (and prints the most frequent causes to stderr). */
const INVALIDATIONS = process.argv.includes('--invalidations');
/** --trace-categories a,b: more Chromium trace categories (e.g. blink,cc,v8,mojom, for --trace-out). */
const EXTRA_CATEGORIES = process.argv.includes('--trace-categories') ? (process.argv[process.argv.indexOf('--trace-categories') + 1] ?? '').split(',').filter(Boolean) : [];
/** --trace-out FILE: also writes the load phase's Chromium trace (open it in chrome://tracing or DevTools). */
const TRACE_OUT = process.argv.includes('--trace-out') ? process.argv[process.argv.indexOf('--trace-out') + 1] : undefined;

// ---------------------------------------------------------------------------
// The stand-in core's state

function baseState(): ClientSnapshot {
  const s = emptySnapshot();
  const channels: ChannelView[] = [];
  for (let i = 0; i < CHANNELS; i++) {
    // A tree: the root, 5 top-level channels, 10 under them, the rest a level deeper.
    const parentId = i === 0 ? null : i <= 5 ? 1 : i <= 15 ? 2 + ((i - 6) % 5) : 7 + ((i - 16) % 9);
    channels.push({ id: i + 1, parentId, name: i === 0 ? 'Root' : `Channel ${i}`, isVoice: i % 3 !== 0, requiredRole: 'guest', position: i, description: i % 4 === 0 ? `About channel ${i}` : '' });
  }
  const users: UserSnapshot[] = [];
  for (let i = 0; i < USERS; i++) {
    users.push({
      sessionId: 1000 + i,
      userId: 1 + i,
      username: i === 0 ? 'me' : `user${String(i).padStart(3, '0')}`,
      role: i === 0 ? 'moderator' : i % 17 === 0 ? 'moderator' : 'member',
      channelId: i < 40 ? 2 : 1 + (i % CHANNELS),
      selfMute: i % 11 === 0,
      selfDeaf: i % 23 === 0,
      serverMute: i % 31 === 0,
      voiceToken: 5000 + i,
      speaking: false,
      levelDb: null,
      localMuted: i % 29 === 0,
      volume: 1,
    });
  }
  const chat: ChatMessageView[] = [];
  const t0 = Date.now() - 3_600_000;
  for (let i = 0; i < 300; i++) chat.push({ id: i + 1, channelId: 2, recipientId: null, senderId: 2 + (i % 39), senderName: `user${String(1 + (i % 39)).padStart(3, '0')}`, text: `message ${i}: ${'lorem ipsum dolor sit amet '.repeat(1 + (i % 4))}`, createdAt: t0 + i * 10_000 });
  s.connection = { status: 'connected', server: { host: 'voice.example.org', port: 64738, name: 'Bench server' }, username: 'me', fingerprint: 'AA:BB', attempt: 0, nextRetryAt: null, certificate: null, error: null };
  s.self = { sessionId: 1000, userId: 1, username: 'me', role: 'moderator' };
  s.channels = channels;
  s.users = users;
  s.chat = chat;
  s.voice = { mode: 'udp', rttMs: 23, lossPercent: 0.4, listenerLossPercent: 0.2, sent: 0, received: 0, speakers: [] };
  s.audio.input = { kind: 'virtual', name: 'virtual', open: true, error: null, underruns: 0, overruns: 0 };
  s.audio.output = { kind: 'virtual', name: 'virtual', open: true, error: null, underruns: 0, overruns: 0 };
  return s;
}

/** The n-th snapshot: a new object (never mutated), as the core publishes it. */
function nextState(prev: ClientSnapshot, n: number): ClientSnapshot {
  // Speaking flips: a rotating quarter of the users in the busy channel and a few elsewhere.
  const users = prev.users.map((u, i) => {
    const speaking = (i + n) % 4 === 0 && (u.channelId === 2 || i % 7 === 0);
    return speaking === u.speaking ? u : { ...u, speaking, levelDb: speaking ? -20 - (n % 20) : null };
  });
  const speaking = users.filter((u) => u.speaking).map((u) => u.sessionId);
  let chat = prev.chat;
  if (n % Math.max(1, Math.round(RATE / 20)) === 0) {
    const last = chat[chat.length - 1]!;
    const i = last.id + 1;
    chat = [...chat.slice(-1999), { id: i, channelId: 2, recipientId: null, senderId: 2 + (i % 39), senderName: `user${String(1 + (i % 39)).padStart(3, '0')}`, text: `live message ${i}`, createdAt: Date.now() }];
  }
  const speakers = users.filter((u) => u.speaking).slice(0, 10).map((u) => ({
    token: u.voiceToken ?? 0, sessionId: u.sessionId, username: u.username, speaking: true, levelDb: u.levelDb ?? -60,
    received: n * 2, late: n % 7, duplicate: 0, lost: n % 5, concealed: n % 3, fecRecovered: n % 4, inserted: 0, dropped: 0,
    depthMs: 40 + (n % 20), targetMs: 60, jitterMs: 3 + (n % 5), playoutDelayMs: 70, maxDepthMs: 100,
  }));
  return {
    ...prev,
    users,
    speaking,
    chat,
    audio: { ...prev.audio, inputLevelDb: -40 + 20 * Math.sin(n / 10), inputPeakDb: -20, outputLevelDb: -30 + 10 * Math.cos(n / 7), clock: { ...prev.audio.clock, ticks: n } },
    voice: { ...prev.voice, sent: n * 3, received: n * 17, rttMs: 20 + (n % 9), speakers },
  };
}

// ---------------------------------------------------------------------------
// In the page (text: the project's tsconfig has no DOM library)

const INIT = `(() => {
  const w = window;
  w.__BENCH__ = { rafs: 0, longTasks: [] };
  const tick = () => { w.__BENCH__.rafs++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) w.__BENCH__.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  } catch (e) { w.__BENCH__.noObserver = String(e); }
})();`;

interface PageCounters {
  rafs: number;
  longTasks: number;
  drawn: number;
  received: number;
  maxDrawMs: number;
  drawMsTotal: number;
  phaseMs: { apply: number; build: number; patch: number } | null;
}

const COUNTERS = `(() => ({
  rafs: window.__BENCH__.rafs,
  longTasks: window.__BENCH__.longTasks.length,
  longTaskMs: window.__BENCH__.longTasks.slice(),
  drawn: window.__HEARTH_PAGE__ ? window.__HEARTH_PAGE__.store.frames : 0,
  received: window.__HEARTH_PAGE__ ? window.__HEARTH_PAGE__.store.received : 0,
  maxDrawMs: window.__HEARTH_PAGE__ ? window.__HEARTH_PAGE__.store.maxDrawMs : 0,
  drawMsTotal: window.__HEARTH_PAGE__ ? (window.__HEARTH_PAGE__.store.drawMsTotal ?? 0) : 0,
  phaseMs: window.__HEARTH_PAGE__ ? (window.__HEARTH_PAGE__.store.phaseMs ?? null) : null,
}))()`;

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  args?: { name?: string };
}

const KINDS = ['FireAnimationFrame', 'FunctionCall', 'UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize', 'MajorGC', 'MinorGC'];

/**
 * RunTask durations (ms) on the renderer main thread(s) in a Chromium trace,
 * where the time went (ms per event kind, nested kinds overlap), and the
 * self time (ms, without nested events) of the busiest event names.
 */
function traceTasks(buf: Buffer): { tasks: number[]; byKind: Record<string, number>; selfMs: Record<string, number> } {
  const parsed = JSON.parse(buf.toString('utf8')) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const main = events.filter((e) => e.ph === 'X' && mains.has(`${e.pid}:${e.tid}`) && typeof e.dur === 'number');
  const byKind: Record<string, number> = {};
  for (const e of main) if (KINDS.includes(e.name)) byKind[e.name] = Math.round((byKind[e.name] ?? 0) + e.dur! / 1000);
  // Self time: complete events nest by time on one thread.
  const self = new Map<string, number>();
  const byThread = new Map<string, TraceEvent[]>();
  for (const e of main) {
    const k = `${e.pid}:${e.tid}`;
    const l = byThread.get(k);
    if (l) l.push(e);
    else byThread.set(k, [e]);
  }
  for (const list of byThread.values()) {
    list.sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!);
    const stack: { e: TraceEvent; end: number; child: number }[] = [];
    const pop = (): void => {
      const f = stack.pop()!;
      self.set(f.e.name, (self.get(f.e.name) ?? 0) + f.e.dur! - f.child);
      if (stack.length) stack[stack.length - 1]!.child += f.e.dur!;
    };
    for (const e of list) {
      while (stack.length && stack[stack.length - 1]!.end <= e.ts!) pop();
      stack.push({ e, end: e.ts! + e.dur!, child: 0 });
    }
    while (stack.length) pop();
  }
  const selfMs: Record<string, number> = {};
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 14)) selfMs[k] = Math.round(v / 1000);
  return { tasks: main.filter((e) => e.name === 'RunTask').map((e) => e.dur! / 1000), byKind, selfMs };
}

/** The most frequent layout / style invalidations in a trace (node and reason), to stderr. */
function printInvalidations(buf: Buffer): void {
  const parsed = JSON.parse(buf.toString('utf8')) as { traceEvents?: (TraceEvent & { args?: { data?: { nodeName?: string; reason?: string } } })[] };
  const count = new Map<string, number>();
  for (const e of parsed.traceEvents ?? []) {
    if (!/InvalidationTracking$/.test(e.name)) continue;
    const d = e.args?.data;
    const k = `${e.name.replace('InvalidationTracking', '')}: ${d?.reason ?? '?'} @ ${String(d?.nodeName ?? '?').slice(0, 60)}`;
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  for (const [k, n] of [...count].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stderr.write(`${String(n).padStart(6)}  ${k}\n`);
}

function pctl(xs: number[], q: number): number {
  if (!xs.length) return 0;
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

interface Phase {
  seconds: number;
  snapshotsSent: number;
  snapshotsPerSecondPublished: number;
  snapshotsPerSecondSent: number;
  snapshotsReceivedPerSecond: number;
  snapshotsDrawnPerSecond: number;
  fps: number;
  longTasksOver50ms: number;
  maxLongTaskMs: number;
  observedLongTasks: number;
  tasksTraced: number;
  /** Sum of the traced main-thread tasks over the phase's wall time. */
  mainThreadBusyPercent: number;
  taskMsP50: number;
  taskMsP99: number;
  mainThreadMsByKind: Record<string, number>;
  mainThreadSelfMs: Record<string, number>;
  maxDrawMs: number;
  /** The page's own drawing (parse/patch of the state, widgets, DOM patch) per drawn frame. */
  ourJsMsPerFrame: number;
  ourJsPhasesMsPerFrame: { apply: number; build: number; patch: number } | null;
}

async function phase(browser: Browser, page: Page, ui: UiServer, seconds: number, publish: (() => void) | null, rate: number, traced = true): Promise<Phase> {
  if (traced) await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', ...(INVALIDATIONS ? ['disabled-by-default-devtools.timeline.invalidationTracking'] : []), ...EXTRA_CATEGORIES] });
  const before = (await page.evaluate(COUNTERS)) as PageCounters;
  const sent0 = ui.stats.snapshotsSent;
  const t0 = performance.now();
  let published = 0;
  if (publish) {
    // Paced by the clock, not by setInterval's drift: publish what is due each millisecond.
    const period = 1000 / rate;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const el = performance.now() - t0;
        if (el >= seconds * 1000) {
          clearInterval(timer);
          resolve();
          return;
        }
        while (published < Math.floor(el / period) + 1) {
          publish();
          published++;
        }
      }, 1);
    });
  } else {
    await new Promise((r) => setTimeout(r, seconds * 1000));
  }
  const el = (performance.now() - t0) / 1000;
  const after = (await page.evaluate(COUNTERS)) as PageCounters;
  const sent = ui.stats.snapshotsSent - sent0;
  let traced_: ReturnType<typeof traceTasks> = { tasks: [], byKind: {}, selfMs: {} };
  if (traced) {
    const buf = await browser.stopTracing();
    if (TRACE_OUT && publish) writeFileSync(TRACE_OUT, buf);
    if (INVALIDATIONS && publish) printInvalidations(buf);
    traced_ = traceTasks(buf);
  }
  const tasks = traced_.tasks;
  const long = tasks.filter((d) => d > 50);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    seconds: r1(el),
    snapshotsSent: sent,
    snapshotsPerSecondPublished: r1(published / el),
    snapshotsPerSecondSent: r1(sent / el),
    snapshotsReceivedPerSecond: r1((after.received - before.received) / el),
    snapshotsDrawnPerSecond: r1((after.drawn - before.drawn) / el),
    fps: r1((after.rafs - before.rafs) / el),
    longTasksOver50ms: long.length,
    maxLongTaskMs: r1(tasks.length ? Math.max(...tasks) : 0),
    observedLongTasks: after.longTasks - before.longTasks,
    tasksTraced: tasks.length,
    mainThreadBusyPercent: r1((tasks.reduce((a, b) => a + b, 0) / (el * 1000)) * 100),
    taskMsP50: r1(pctl(tasks, 0.5)),
    taskMsP99: r1(pctl(tasks, 0.99)),
    mainThreadMsByKind: traced_.byKind,
    mainThreadSelfMs: traced_.selfMs,
    maxDrawMs: r1(after.maxDrawMs),
    ourJsPhasesMsPerFrame:
      after.phaseMs && before.phaseMs && after.drawn > before.drawn
        ? {
            apply: Math.round(((after.phaseMs.apply - before.phaseMs.apply) / (after.drawn - before.drawn)) * 100) / 100,
            build: Math.round(((after.phaseMs.build - before.phaseMs.build) / (after.drawn - before.drawn)) * 100) / 100,
            patch: Math.round(((after.phaseMs.patch - before.phaseMs.patch) / (after.drawn - before.drawn)) * 100) / 100,
          }
        : null,
    ourJsMsPerFrame: after.drawn > before.drawn ? Math.round(((after.drawMsTotal - before.drawMsTotal) / (after.drawn - before.drawn)) * 100) / 100 : 0,
  };
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (as root)`);
  const staticDir = join(repoRoot, 'dist', 'ui');
  if (!existsSync(join(staticDir, 'index.html'))) throw new Error(`${staticDir}/index.html is missing: run node scripts/build-ui.mjs`);
  const logger = pino({ level: 'silent' });
  let n = 0;
  let cur = baseState();
  const state = new Latest<ClientSnapshot>(cur);
  const actions: ClientAction[] = [];
  const core = { state, push: (a: ClientAction) => void actions.push(a) };
  // The real default layout plugin when its guest is built; else the page's built-in layout.
  let layout: LayoutHost | null = null;
  let layoutName = 'builtin (page)';
  const choices = shippedLayouts(repoRoot).filter((c) => c.id === 'layout-default');
  if (choices.length) {
    try {
      layout = await LayoutHost.start({ logger, choices, active: 'layout-default' });
      layoutName = 'layout-default';
    } catch (err) {
      process.stderr.write(`ui-render: layout-default could not start (${(err as Error).message}); using the page's built-in layout\n`);
    }
  }
  const ui = await UiServer.start({ logger, core, layout, staticDir });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.addInitScript({ content: INIT });
    await page.goto(ui.url);
    // Ready: the page drew the connected state (the channel tree is there) with the layout plugin's tree.
    const end = Date.now() + 15_000;
    for (;;) {
      const ok = await page.evaluate(`!!(window.__HEARTH_PAGE__ && window.__HEARTH_PAGE__.store.snapshot && document.querySelector('nav.channels li.user')${layout ? ' && window.__HEARTH_PAGE__.store.layout' : ''})`);
      if (ok) break;
      if (Date.now() > end) throw new Error('the page did not draw the state within 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    process.stderr.write(`ui-render: idle ${IDLE_SECONDS} s, then ${RATE}/s for ${SECONDS} s (layout ${layoutName})\n`);
    const idle = await phase(browser, page, ui, IDLE_SECONDS, null, RATE);
    const publish = (): void => {
      cur = nextState(cur, ++n);
      state.set(cur);
    };
    // --profile: a V8 CPU profile of the page under load instead of the trace (where the draw's time goes).
    if (process.argv.includes('--profile')) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
      await phase(browser, page, ui, SECONDS, publish, RATE, false);
      const { profile } = (await cdp.send('Profiler.stop')) as { profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; hitCount?: number }[] } };
      const self = new Map<string, number>();
      let total = 0;
      for (const n of profile.nodes) {
        const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}:${n.callFrame.columnNumber}`;
        self.set(k, (self.get(k) ?? 0) + (n.hitCount ?? 0));
        total += n.hitCount ?? 0;
      }
      const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 30);
      for (const [k, c] of top) process.stderr.write(`${((100 * c) / total).toFixed(1).padStart(5)}%  ${k}\n`);
    }
    const load = await phase(browser, page, ui, SECONDS, publish, RATE);
    const drawn = await page.evaluate(`document.querySelectorAll('li.user').length`);
    // (An older UiServer has fewer stats: the A/B runs this bench against the build before.)
    const stats = ui.stats as Partial<UiServer['stats']>;
    const line = {
      bench: 'ui-render',
      snapshotsPerSecondSent: load.snapshotsPerSecondSent,
      snapshotsDrawnPerSecond: load.snapshotsDrawnPerSecond,
      fps: load.fps,
      longTasksOver50ms: load.longTasksOver50ms,
      maxLongTaskMs: load.maxLongTaskMs,
      snapshotBytes: Buffer.byteLength(JSON.stringify(compactSnapshot(cur))),
      /** What the page was sent per snapshot: patches (patch.ts) after the first full one. */
      patchesSent: stats.patchesSent ?? 0,
      fullSnapshotsSent: stats.fullSent ?? 0,
      patchBytesAvg: stats.patchesSent ? Math.round((stats.patchBytes ?? 0) / stats.patchesSent) : null,
      snapshotsPerSecondPublished: load.snapshotsPerSecondPublished,
      snapshotsReceivedPerSecond: load.snapshotsReceivedPerSecond,
      observedLongTasks: load.observedLongTasks,
      maxDrawMs: load.maxDrawMs,
      mainThreadBusyPercent: load.mainThreadBusyPercent,
      taskMsP50: load.taskMsP50,
      taskMsP99: load.taskMsP99,
      ourJsMsPerFrame: load.ourJsMsPerFrame,
      ourJsPhasesMsPerFrame: load.ourJsPhasesMsPerFrame,
      mainThreadMsByKind: load.mainThreadMsByKind,
      mainThreadSelfMs: load.mainThreadSelfMs,
      seconds: load.seconds,
      users: USERS,
      channels: CHANNELS,
      userRowsDrawn: drawn,
      layout: layoutName,
      baselineIdle: { fps: idle.fps, mainThreadBusyPercent: idle.mainThreadBusyPercent, longTasksOver50ms: idle.longTasksOver50ms, maxLongTaskMs: idle.maxLongTaskMs, snapshotsDrawnPerSecond: idle.snapshotsDrawnPerSecond, observedLongTasks: idle.observedLongTasks, seconds: idle.seconds },
      fpsOfIdle: idle.fps > 0 ? Math.round((load.fps / idle.fps) * 1000) / 1000 : null,
      loadAvg1: Math.round(loadavg()[0]! * 100) / 100,
      cpus: cpus().length,
    };
    process.stdout.write(JSON.stringify(line) + '\n');
  } finally {
    await browser.close().catch(() => undefined);
    await ui.close();
    await layout?.close().catch(() => undefined);
  }
}

main().catch((err) => {
  process.stderr.write(`ui-render: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
