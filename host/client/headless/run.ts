// `hearth client --headless`: a whole client with no UI, for bots, tests and
// demos. It connects (pinning the given fingerprint, or trusting on first use
// and pinning), joins a channel, plays a WAV file into its capture chain,
// records what it hears to a WAV file, and exits cleanly after --seconds (or
// when the played file has ended). Every refusal is one clear line on stderr
// and a non-zero exit code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ClientCore } from '../core/client-core.js';
import type { ClientConfigStore } from '../core/config-store.js';
import type { ClientSnapshot } from '../core/snapshot.js';
import type { CaptureSpec, ChainGuestSpec, PlaybackSpec } from '../audio/engine-protocol.js';
import { loadChainGuest } from './effects.js';

export interface HeadlessOptions {
  server: string;
  user: string;
  passwordFile: string;
  fingerprint?: string;
  channel?: string;
  play?: string;
  record?: string;
  effects: string[];
  /** Per plugin id, a JSON config overlay. */
  effectConfig: Record<string, Record<string, unknown>>;
  seconds?: number;
  stats: boolean;
  register?: boolean;
  invite?: string;
  bootstrapToken?: string;
  vadThresholdDb?: number;
  mode?: 'vad' | 'ptt' | 'continuous';
}

export class HeadlessError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'HeadlessError';
  }
}

export function parseServer(s: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) throw new HeadlessError(`--server must be HOST:PORT, got "${s}"`);
  const port = m[2] === undefined ? 64738 : Number(m[2]);
  if (!(port >= 1 && port <= 65535)) throw new HeadlessError(`--server port must be 1-65535, got "${m[2]}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HeadlessError(`cannot read --password-file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const pw = text.replace(/\r?\n$/, '');
  if (!pw) throw new HeadlessError(`--password-file ${path} is empty`);
  return pw;
}

export interface HeadlessResult {
  exitCode: number;
  /** The --stats line (also printed by the CLI). */
  stats: Record<string, unknown> | null;
  snapshot: ClientSnapshot;
}

export function voiceStats(s: ClientSnapshot): Record<string, unknown> {
  return {
    connection: s.connection.status,
    mode: s.voice.mode,
    rttMs: s.voice.rttMs === null ? null : Math.round(s.voice.rttMs * 100) / 100,
    sent: s.voice.sent,
    received: s.voice.received,
    lossPercent: Math.round(s.voice.lossPercent * 100) / 100,
    listenerLossPercent: s.voice.listenerLossPercent,
    clock: s.audio.clock,
    cpu: s.audio.cpu,
    speakers: s.voice.speakers.map((p) => ({
      user: p.username,
      received: p.received,
      late: p.late,
      duplicate: p.duplicate,
      lost: p.lost,
      concealed: p.concealed,
      fecRecovered: p.fecRecovered,
      depthMs: p.depthMs,
      maxDepthMs: p.maxDepthMs,
      jitterMs: p.jitterMs,
    })),
    plugins: s.plugins,
    errors: s.errors.map((e) => `${e.code}: ${e.message}`),
  };
}

export async function runHeadless(o: HeadlessOptions, ctx: { logger: Logger; configDir: string; store?: ClientConfigStore; grantsFor: (sha256: string, requested: string[], plugin?: { id: string; version: string }) => string[] }): Promise<HeadlessResult> {
  const server = parseServer(o.server);
  const password = readPasswordFile(o.passwordFile);
  if (o.seconds !== undefined && !(o.seconds > 0 && o.seconds <= 86_400)) throw new HeadlessError('--seconds must be a number of seconds between 0 and 86400');
  const chain: ChainGuestSpec[] = [];
  for (const path of o.effects) {
    let g: ChainGuestSpec;
    try {
      const probe = await loadChainGuest(path, []);
      const grants = ctx.grantsFor(probe.manifest.wasm.sha256, probe.manifest.capabilities as string[], { id: probe.manifest.id, version: probe.manifest.version });
      g = await loadChainGuest(path, grants, o.effectConfig[probe.manifest.id] ?? {});
    } catch (err) {
      throw new HeadlessError(`--effect ${path}: ${(err as Error).message}`);
    }
    chain.push(g);
  }
  const capture: CaptureSpec = o.play ? { kind: 'wav', path: o.play } : { kind: 'none' };
  const playback: PlaybackSpec = o.record ? { kind: 'wav', path: o.record } : { kind: 'none' };
  // The played file starts only once we are in the channel, so nothing of it
  // is spoken into a connection that is not there yet.
  const core = await ClientCore.start({
    logger: ctx.logger,
    knownHostsFile: join(ctx.configDir, 'known_hosts.json'),
    capture: { kind: 'none' },
    playback,
    ...(ctx.store ? { store: ctx.store } : {}),
    chain,
    settings: { gate: { mode: o.mode ?? (o.play ? 'continuous' : 'vad'), thresholdDb: o.vadThresholdDb ?? -45, hangoverMs: 300 } },
  });
  let exitCode = 0;
  try {
    core.push({
      type: 'connect',
      server,
      username: o.user,
      password,
      ...(o.fingerprint ? { fingerprint: o.fingerprint } : {}),
      ...(o.channel ? { channel: o.channel } : {}),
      ...(o.register ? { register: { ...(o.invite ? { invite: o.invite } : {}), ...(o.bootstrapToken ? { bootstrapToken: o.bootstrapToken } : {}) } } : {}),
    });
    const s = await core.state.until((x) => x.connection.status === 'connected' || x.connection.status === 'failed' || (x.connection.status === 'reconnecting' && x.connection.attempt >= 3), 20_000).catch(() => core.state.get());
    if (s.connection.status !== 'connected') {
      const e = s.connection.error;
      throw new HeadlessError(e ? `${e.code}: ${e.message}` : `could not connect to ${o.server} (${s.connection.status})`, 1);
    }
    if (o.channel) {
      const joined = await core.state.until((x) => {
        const me = x.users.find((u) => u.sessionId === x.self?.sessionId);
        return x.channels.some((c) => c.id === me?.channelId && c.name === o.channel) || x.errors.some((err) => err.code === 'NOT_FOUND');
      }, 5000).catch(() => core.state.get());
      const me = joined.users.find((u) => u.sessionId === joined.self?.sessionId);
      if (!joined.channels.some((c) => c.id === me?.channelId && c.name === o.channel)) throw new HeadlessError(`channel "${o.channel}" does not exist or cannot be joined`, 1);
    }
    if (capture.kind !== 'none') {
      core.push({ type: 'devices.select', capture });
      await core.state.until((x) => x.audio.input !== null && x.audio.input.kind === capture.kind, 5000).catch(() => undefined);
      const dev = core.state.get().audio.input;
      if (dev?.error) throw new HeadlessError(`--play ${o.play}: ${dev.error.message}`, 2);
    }
    // Run for --seconds, or until the played file has ended (plus a moment for the tail to arrive).
    const until = o.seconds !== undefined ? Date.now() + o.seconds * 1000 : Infinity;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        const st = core.state.get();
        const ended = o.play !== undefined && st.audio.input?.ended === true;
        if (Date.now() >= until || (o.seconds === undefined && (ended || !o.play)) || st.connection.status === 'failed') {
          clearInterval(check);
          resolve();
        }
      }, 50);
      const stop = () => {
        clearInterval(check);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    if (o.seconds === undefined && o.play) await new Promise((r) => setTimeout(r, 500));
    if (core.state.get().connection.status === 'failed') exitCode = 1;
  } catch (err) {
    await core.close();
    throw err;
  }
  const last = core.state.get();
  await core.close();
  return { exitCode, stats: o.stats ? voiceStats(last) : null, snapshot: last };
}
