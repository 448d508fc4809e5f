// The echo-cancellation half of bench/dsp-quality: the rooms of
// host/dsp/aec-cases.ts (docs/DSP.md "Room model") through the real capture
// chain (host/dsp/run-guest.ts), scored with host/dsp/erle.ts and STOI, and the
// same cases with the mic passed through unchanged as the do-nothing baseline.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_ROOM, DELAY_ROOM, REVERB_ROOM, buildEchoCase, echoFigures, nearFigures, reconvergeFigure, type EchoCase, type EchoCaseOptions } from '../host/dsp/aec-cases.js';
import { runAecOverSignals } from '../host/dsp/run-guest.js';

/** The canceller's residual echo suppressor delays its output by 240 samples (5 ms); the measures take it out. */
const AEC_LATENCY = 240;
/** ERLE (dB) that counts as re-converged after the echo path changes (the AEC tests use the same). */
const RECONVERGE_DB = 20;
const CHANGE_AT_S = 5;

export interface AecBench {
  headline: Record<string, number | null>;
  baseline: Record<string, number | null>;
  cpuMsPerFrameAec: number;
  cases: Record<string, unknown>;
}

const r2 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
const r3 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);

const CASES: Record<string, EchoCaseOptions> = {
  base: { room: BASE_ROOM },
  reverb: { room: REVERB_ROOM },
  delay120: { room: DELAY_ROOM },
  change: { room: BASE_ROOM, changeAtS: CHANGE_AT_S, room2: { ...BASE_ROOM, seed: 7, delayMs: 45 } },
  // The near talker 6 dB over the far end, 12 dB over its echo: the case (unprocessed STOI 0.947).
  doubleTalk: { room: BASE_ROOM, nearEnd: true, nearDb: 6 },
  // Near talker and far end at the same level (6 dB over the echo): reported, no target.
  doubleTalkHard: { room: BASE_ROOM, nearEnd: true },
};

function score(name: string, c: EchoCase, out: Float32Array, latency: number): Record<string, number | null> {
  const aligned = out.subarray(latency);
  if (name.startsWith('doubleTalk')) {
    const f = nearFigures(c, out, latency);
    return { stoi: r3(f.stoi), stoiMic: r3(f.stoiMic), segSnrDb: r2(f.segSnrDb), nearLevelDb: r2(f.nearLevelDb), lsdDb: r2(f.lsdDb) };
  }
  const f = echoFigures(c, aligned);
  const s: Record<string, number | null> = { erleDb: r2(f.erleDb), worstWindowDb: r2(f.worstWindowDb) };
  if (name === 'change') s.reconvergeS = r2(reconvergeFigure(c, aligned, CHANGE_AT_S, RECONVERGE_DB));
  return s;
}

function headline(cases: Record<string, Record<string, number | null>>): Record<string, number | null> {
  const n = (v: number | null | undefined): number => v ?? NaN;
  return {
    erleDb: cases.base!.erleDb ?? null,
    erleHardDb: r2(Math.min(n(cases.reverb!.erleDb), n(cases.delay120!.erleDb))),
    worstWindowDb: r2(Math.min(n(cases.base!.worstWindowDb), n(cases.reverb!.worstWindowDb), n(cases.delay120!.worstWindowDb))),
    // null: never re-converged.
    reconvergeS: cases.change!.reconvergeS ?? null,
    doubleTalkStoi: cases.doubleTalk!.stoi ?? null,
  };
}

export async function runAec(root: string): Promise<AecBench | null> {
  const manifest = join(root, 'manifests', 'aec.json');
  if (!existsSync(manifest)) return null;
  const got: Record<string, Record<string, number | null>> = {};
  const pass: Record<string, Record<string, number | null>> = {};
  const us: number[] = [];
  let bypassed = 0;
  for (const [name, o] of Object.entries(CASES)) {
    const c = buildEchoCase(o);
    const r = await runAecOverSignals(manifest, c.mic, c.reference, undefined, { collectStats: false });
    bypassed += r.bypassed;
    us.push(...r.usPerFrame);
    got[name] = score(name, c, r.out, AEC_LATENCY);
    pass[name] = score(name, c, c.mic, 0);
  }
  us.sort((a, b) => a - b);
  const mean = us.reduce((a, b) => a + b, 0) / Math.max(1, us.length) / 1000;
  return {
    headline: headline(got),
    baseline: headline(pass),
    cpuMsPerFrameAec: r3(mean) ?? NaN,
    cases: { ...got, cpuMsP50: r3((us[us.length >> 1] ?? NaN) / 1000), cpuMsP99: r3((us[Math.floor(us.length * 0.99)] ?? NaN) / 1000), bypassed, reconvergeThresholdDb: RECONVERGE_DB },
  };
}
