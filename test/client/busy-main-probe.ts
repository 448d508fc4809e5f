// Child-process entry for core-resilience.test.ts: a real server and two
// client cores (A speaks a sine on a virtual mic, B listens on a virtual
// speaker) in one process whose main thread then busy-loops 200 ms of every
// second for 5 s. Prints one JSON line with both engines' clock figures and
// what B heard, measured over the busy period only.
//
// It runs in a process of its own, as the client does, rather than inside the
// test runner: there, hundreds of earlier tests have grown the runner's heap,
// and V8's parallel garbage collection of that heap (on helper threads across
// both cores) is a load a real client process does not carry.
import pino from 'pino';
import { join } from 'node:path';
import { ClientCore } from '../../host/client/core/client-core.js';
import { createUser, PASSWORD, startServer, tempDir } from '../helpers/server.js';

const logger = pino({ level: 'silent' });

function sine(seconds: number, hz = 440, amp = 0.3): Float32Array {
  const s = new Float32Array(48_000 * seconds);
  for (let i = 0; i < s.length; i++) s[i] = amp * Math.sin((2 * Math.PI * hz * i) / 48_000);
  return s;
}

function busyLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: nothing on the main thread can run meanwhile
  }
}

const t = await startServer();
await createUser(t, 'ann');
await createUser(t, 'bob');
const dir = tempDir('hearth-busy-');
const a = await ClientCore.start({ logger, knownHostsFile: join(dir, 'a.json'), capture: { kind: 'virtual', samples: sine(1), loop: true }, settings: { gate: { mode: 'continuous', thresholdDb: -45, hangoverMs: 0 } } });
const b = await ClientCore.start({ logger, knownHostsFile: join(dir, 'b.json'), playback: { kind: 'virtual' } });
for (const [core, user] of [[b, 'bob'], [a, 'ann']] as const) {
  core.push({ type: 'connect', server: { host: '127.0.0.1', port: t.port }, username: user, password: PASSWORD, fingerprint: t.fingerprint });
  await core.state.until((s) => s.connection.status === 'connected', 10_000);
}
await b.state.until((s) => s.voice.speakers.some((sp) => sp.username === 'ann' && sp.received > 20), 10_000);
const before = { a: a.engine.report!.clock, b: b.engine.report!.clock, sp: b.engine.report!.speakers[0]! };
for (let i = 0; i < 5; i++) {
  busyLoop(200);
  await new Promise((r) => setTimeout(r, 800));
}
const ra = await a.engine.nextReport();
const rb = await b.engine.nextReport();
const sp = rb.speakers[0]!;
const delta = (x: Record<string, number>, y: Record<string, number>) => Object.fromEntries(Object.keys(x).map((k) => [k, k === 'maxLateMs' ? x[k] : x[k]! - (y[k] ?? 0)]));
process.stdout.write(
  JSON.stringify({
    a: delta(ra.clock as unknown as Record<string, number>, before.a as unknown as Record<string, number>),
    b: delta(rb.clock as unknown as Record<string, number>, before.b as unknown as Record<string, number>),
    heard: { received: sp.received - before.sp.received, lost: sp.lost - before.sp.lost, late: sp.late - before.sp.late },
  }) + '\n',
);
await Promise.all([a.close(), b.close()]);
await t.stop();
process.exit(0);
