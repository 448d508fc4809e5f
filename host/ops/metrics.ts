// The Prometheus metrics of a running server (prom-client). Everything is
// collected on scrape: each metric's collect() reads counters the server keeps
// anyway (the voice lane's stats, the plugin runtime's per-plugin stats, the
// hub's sessions, ops/counters.ts), so a scrape costs the scraper's request
// and nothing is added to the packet path except the forwarding timer
// (forward-timing.ts). Names follow Prometheus conventions: a `hearth_`
// prefix, `_total` counters, seconds and bytes. No label carries a user:
// per-channel occupancy is labelled by channel id (at most limits.maxChannels
// series), plugins by plugin id (what the admin installed), drops and
// disconnects by a fixed set of reasons. Node's own figures (event-loop lag,
// RSS, heap, CPU, GC) come from prom-client's default metrics under their
// standard names (process_*, nodejs_*), which dashboards already know.
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { Hub } from '../server/hub.js';
import type { VoiceLane } from '../server/voice/voice-lane.js';
import { DROP_KINDS } from '../server/voice/voice-lane.js';
import type { PluginManager } from '../server/plugins/plugin-manager.js';
import type { OpsCounters } from './counters.js';
import { FORWARD_BUCKETS, type ForwardTiming } from './forward-timing.js';

/** What the metrics read; HearthServer provides it. */
export interface MetricsSource {
  readonly hub: Hub;
  readonly voice: VoiceLane;
  readonly plugins: PluginManager | null;
  readonly counters: OpsCounters;
  /** TLS connections whose handshake is done, logged in or not. */
  readonly connectionCount: number;
  readonly admissionCounts: { sessions: number; unauthenticated: number; addresses: number };
}

/** Kernel drops are a reason of their own in hearth_voice_datagrams_dropped_total. */
export const KERNEL_DROP_REASON = 'kernelReceiveBuffer';

type Labels = Record<string, string>;

export function buildRegistry(src: MetricsSource, version: string, timing: ForwardTiming): Registry {
  const registry = new Registry();
  const registers = [registry];
  // A monitorEventLoopDelay histogram (libuv timer, 10 ms resolution) and
  // a few process reads per scrape.
  collectDefaultMetrics({ register: registry });

  type Read = () => Array<[Labels, number]> | Promise<Array<[Labels, number]>>;
  /** A gauge set from `read` at every scrape. */
  const gauge = (name: string, help: string, labelNames: string[], read: Read) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const rows = await read();
        this.reset();
        for (const [labels, v] of rows) this.set(labels, v);
      },
    });
  /** A counter whose running total lives elsewhere: re-read at every scrape. */
  const counter = (name: string, help: string, labelNames: string[], read: Read) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const rows = await read();
        this.reset();
        for (const [labels, v] of rows) this.inc(labels, v);
      },
    });
  // The kernel's counters are read afresh once per scrape (a few small /proc
  // reads), not taken from the lane's last once-a-second read, so a scrape
  // right after start sees them too. The metrics of one scrape share the read.
  let kernelRead: { at: number; value: Promise<VoiceLane['stats']['kernel']> } | null = null;
  const kernel = () => {
    const now = Date.now();
    if (kernelRead === null || now - kernelRead.at > 500) kernelRead = { at: now, value: src.voice.refreshKernelDrops().catch(() => ({ ...src.voice.stats.kernel })) };
    return kernelRead.value;
  };
  const one = (v: number): Array<[Labels, number]> => [[{}, v]];

  gauge('hearth_build_info', 'Always 1; the version label says which Hearth runs.', ['version'], () => [[{ version }, 1]]);

  // ---- sessions and connections ------------------------------------------------
  gauge('hearth_sessions_online', 'Logged-in sessions.', [], () => one(src.hub.online.length));
  gauge('hearth_connections_open', 'TLS connections past the handshake, logged in or not.', [], () => one(src.connectionCount));
  gauge('hearth_connections_unauthenticated', 'Connections not logged in yet, TLS handshakes in progress included (limits.maxUnauthenticated).', [], () => one(src.admissionCounts.unauthenticated));
  gauge('hearth_channel_sessions', 'Sessions in each channel (every channel, empty ones as 0).', ['channel'], () => {
    const counts = new Map<number, number>();
    for (const c of src.hub.tree.all()) counts.set(c.id, 0);
    for (const conn of src.hub.online) counts.set(conn.session.channelId, (counts.get(conn.session.channelId) ?? 0) + 1);
    return [...counts].map(([id, n]) => [{ channel: String(id) }, n]);
  });
  gauge('hearth_channels', 'Channels in the tree, root included.', [], () => one(src.hub.tree.all().length));
  counter('hearth_sessions_started_total', 'Sessions that logged in or registered.', [], () => one(src.counters.sessionsStarted));
  counter('hearth_connections_closed_total', 'Connections ended, by disconnect code (CLOSED: the client went away; KICKED, BANNED, TIMEOUT, FLOOD, SHUTDOWN ...).', ['reason'], () =>
    [...src.counters.closed].map(([reason, n]) => [{ reason }, n]),
  );
  counter('hearth_login_failures_total', 'Failed password guesses (logins, wrong invite or bootstrap tokens, wrong old passwords).', [], () => one(src.counters.loginFailures));
  counter('hearth_login_throttled_total', 'Login attempts refused by the login throttle (AUTH_THROTTLED), by scope.', ['scope'], () => [
    [{ scope: 'ip' }, src.counters.loginThrottled.ip],
    [{ scope: 'account' }, src.counters.loginThrottled.account],
  ]);
  counter('hearth_registrations_throttled_total', 'Open registrations refused by the per-address quota (REGISTRATION_THROTTLED).', [], () => one(src.counters.registrationsThrottled));

  // ---- voice lane ----------------------------------------------------------------
  const vs = () => src.voice.stats;
  counter('hearth_voice_datagrams_received_total', 'Voice datagrams received (UDP and tunnelled over TLS), before any check.', [], () => one(vs().received));
  counter('hearth_voice_datagrams_authenticated_total', 'Voice datagrams that authenticated (AEAD open and replay window passed).', [], () => one(vs().authenticated));
  counter('hearth_voice_keepalives_total', 'Authenticated keep-alives (empty voice datagrams).', [], () => one(vs().keepalives));
  counter('hearth_voice_aead_opens_total', 'AEAD opens attempted (every cheap check passed).', [], () => one(vs().aeadOpens));
  counter('hearth_voice_packets_forwarded_total', 'Re-encrypted voice packets sent to listeners, by transport.', ['transport'], () => {
    const s = vs();
    return [
      [{ transport: 'udp' }, s.forwarded - s.forwardedTcp],
      [{ transport: 'tls' }, s.forwardedTcp],
    ];
  });
  counter('hearth_voice_datagrams_dropped_total', `Voice datagrams dropped, by reason (docs/OPERATIONS.md; ${KERNEL_DROP_REASON}: dropped by the kernel, receive buffer full, before the server read them).`, ['reason'], async () => {
    const k = await kernel();
    const rows: Array<[Labels, number]> = DROP_KINDS.map((r) => [{ reason: r }, vs().dropped[r]]);
    if (k.socketDrops !== null) rows.push([{ reason: KERNEL_DROP_REASON }, k.socketDrops]);
    return rows;
  });
  counter('hearth_udp_receive_buffer_errors_total', 'Machine-wide UDP datagrams the kernel dropped for a full receive buffer (/proc/net/snmp RcvbufErrors; every socket of the host, since boot).', [], async () => {
    const n = (await kernel()).systemRcvbufErrors;
    return n === null ? [] : one(n);
  });
  gauge('hearth_voice_receive_queue_bytes', "Bytes waiting in the voice socket's receive queue.", [], async () => {
    const n = (await kernel()).rxQueueBytes;
    return n === null ? [] : one(n);
  });
  gauge('hearth_voice_receive_buffer_bytes', 'Receive buffer the kernel granted the voice socket (SO_RCVBUF as reported).', [], async () => {
    const n = (await kernel()).recvBufferBytes;
    return n === null ? [] : one(n);
  });
  counter('hearth_voice_path_events_total', 'Voice path validation (docs/PROTOCOL.md 12.6), by event.', ['event'], () =>
    Object.entries(vs().path).map(([event, n]) => [{ event }, n]),
  );
  counter('hearth_voice_sources_shed_total', 'Source addresses shed for sending bad datagrams.', [], () => one(vs().admission.sourcesShed));
  counter('hearth_voice_token_budgets_spent_total', "Times a session token's forged-packet budget was spent.", [], () => one(vs().admission.sessionBudgetsSpent));
  gauge('hearth_voice_sources_shed', 'Source addresses shed right now.', [], () => one(vs().admission.sourcesShedNow));
  gauge('hearth_voice_sessions', 'Sessions with voice credentials, by the transport their voice takes now (tls: no authenticated UDP yet, or UDP silent for voice.udpSilentMs).', ['transport'], () => {
    let udp = 0;
    let tls = 0;
    for (const s of src.voice.voiceSessions.values()) {
      if (s.udpActive) udp++;
      else tls++;
    }
    return [
      [{ transport: 'udp' }, udp],
      [{ transport: 'tls' }, tls],
    ];
  });
  registry.registerMetric(forwardHistogram(timing));

  // ---- plugins -------------------------------------------------------------------
  const perPlugin = (pick: (p: ReturnType<PluginManager['list']>[number]) => number): Array<[Labels, number]> =>
    (src.plugins?.list() ?? []).map((p) => [{ plugin: p.id }, pick(p)]);
  counter('hearth_plugin_calls_total', 'Calls into each loaded plugin.', ['plugin'], () => perPlugin((p) => p.stats.calls));
  counter('hearth_plugin_overruns_total', 'Plugin calls not answered within their time limit (late).', ['plugin'], () => perPlugin((p) => p.stats.late));
  counter('hearth_plugin_calls_skipped_total', 'Plugin calls bypassed because a late call was still running.', ['plugin'], () => perPlugin((p) => p.stats.busy));
  counter('hearth_plugin_faults_total', 'Plugin faults (trap, memory cap, kill after a hang, garbage); a fault disables the plugin.', ['plugin'], () => perPlugin((p) => p.stats.faults));
  gauge('hearth_plugin_running', '1 while a loaded plugin runs, 0 once a fault disabled it.', ['plugin'], () => perPlugin((p) => (p.state === 'running' ? 1 : 0)));
  gauge('hearth_plugin_memory_bytes', "Guest linear memory after the plugin's last call.", ['plugin'], () => perPlugin((p) => p.memoryKiB * 1024));
  return registry;
}

/**
 * hearth_voice_forward_seconds in the shape prom-client's own histograms
 * return from get(), read from the preallocated ForwardTiming.
 */
function forwardHistogram(t: ForwardTiming): Metric<string> {
  const name = 'hearth_voice_forward_seconds';
  const help = 'Time from the voice lane receiving a datagram to issuing the send of its last re-encrypted copy (forwarded datagrams only; server-side work, not network time).';
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const values: Array<{ labels: Labels; value: number; metricName: string }> = [];
      let cumulative = 0;
      FORWARD_BUCKETS.forEach((le, i) => {
        cumulative += t.counts[i]!;
        values.push({ labels: { le: String(le) }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: '+Inf' }, value: t.count, metricName: `${name}_bucket` });
      values.push({ labels: {}, value: t.sum, metricName: `${name}_sum` });
      values.push({ labels: {}, value: t.count, metricName: `${name}_count` });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  return metric as unknown as Metric<string>;
}
