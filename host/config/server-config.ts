// Server configuration: embedded defaults, then an optional JSON file, then
// command-line flags. The file is validated with the same schema library as the
// wire protocol so a typo is reported by name instead of silently ignored.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ROLES } from '../protocol/roles.js';
import { parseListenAddress } from '../ops/listen-address.js';

const LogConfig = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    size: z.string().default('10m'),
    frequency: z.union([z.enum(['daily', 'hourly']), z.number().int().positive()]).default('daily'),
    keep: z.number().int().min(1).max(1000).default(10),
    pretty: z.boolean().optional(),
  })
  .strict();

const LimitsConfig = z
  .object({
    /** Largest control frame accepted, in bytes of JSON. */
    maxFrameBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
    /** Logged-in sessions in total. */
    maxConnections: z.number().int().positive().default(2000),
    /**
     * Connections per client IP, counted from the moment TCP is accepted (before
     * the TLS handshake), logged in or not.
     */
    maxConnectionsPerIp: z.number().int().positive().default(20),
    /**
     * Connections not logged in yet (TLS handshake running, or handshaked but no
     * login), server-wide. A budget of their own, so they can never take a slot of
     * a logged-in session; when it is full, a new connection sheds the oldest one
     * of the address holding the most (see host/server/admission.ts).
     */
    maxUnauthenticated: z.number().int().positive().default(500),
    /** A TLS handshake that has not finished by then is dropped. */
    handshakeTimeoutMs: z.number().int().positive().default(10_000),
    /** A connection that has not logged in by then is dropped. */
    loginTimeoutMs: z.number().int().positive().default(30_000),
    /** A session that sends nothing (not even a ping) for this long is dropped. */
    idleTimeoutMs: z.number().int().positive().default(90_000),
    /** A frame that started arriving but is not complete by then is dropped. */
    frameStallTimeoutMs: z.number().int().positive().default(15_000),
    /** Control messages per second per connection (token bucket). */
    messagesPerSecond: z.number().positive().default(20),
    messageBurst: z.number().int().positive().default(60),
    /** Messages refused for rate within one refill period before the connection is cut. */
    floodDisconnectAfter: z.number().int().positive().default(40),
    /**
     * Voice frames (kind 0x02) over TLS that do not authenticate (forged, replayed,
     * wrong size) within 10 s before the connection is cut. A genuine client sends none.
     */
    voiceGarbageDisconnectAfter: z.number().int().positive().default(20),
    /** Accounts registered without an invite or bootstrap token, per IP, per window. */
    registrationsPerIp: z.number().int().positive().default(5),
    registrationWindowMs: z.number().int().positive().default(60 * 60_000),
    chatMessagesPerWindow: z.number().int().positive().default(10),
    chatWindowMs: z.number().int().positive().default(10_000),
    chatMaxChars: z.number().int().positive().max(20_000).default(2000),
    historyOnJoin: z.number().int().min(0).max(500).default(50),
    historyKeepPerChannel: z.number().int().min(1).default(1000),
    channelNameMaxChars: z.number().int().positive().default(64),
    maxChannels: z.number().int().positive().default(1000),
  })
  .strict();

const ThrottleConfig = z
  .object({
    /** Failed logins allowed per IP inside `windowMs` before its lockout. */
    maxFailures: z.number().int().positive().default(5),
    windowMs: z.number().int().positive().default(15 * 60_000),
    /** First lockout length of an IP; doubles with every further failure, capped at `maxLockoutMs`. */
    lockoutMs: z.number().int().positive().default(30_000),
    maxLockoutMs: z.number().int().positive().default(15 * 60_000),
    /**
     * Per account, attempts from addresses the account never logged in from: a
     * token bucket of `accountBurst`, refilled by one every `accountRefillMs`.
     * Addresses it did log in from are not held back by it, so nobody can lock
     * the owner out from an address the owner never used.
     */
    accountBurst: z.number().int().positive().default(10),
    accountRefillMs: z.number().int().positive().default(60_000),
    /** Addresses remembered per account (most recently used first). */
    knownAddressesPerUser: z.number().int().min(1).max(1000).default(20),
  })
  .strict();

const VoiceConfig = z
  .object({
    /** UDP port of the voice lane; default: the control port's number (as Mumble does). */
    port: z.number().int().min(0).max(65535).optional(),
    /** Clients send an authenticated keep-alive this often; the server answers each. */
    keepaliveMs: z.number().int().positive().default(5000),
    /** No authenticated UDP from a session for this long: send it voice over TLS instead. */
    udpSilentMs: z.number().int().positive().default(15_000),
    /** Authenticated datagrams per second per session (token bucket); voice is 50/s. */
    packetsPerSecond: z.number().positive().default(120),
    packetBurst: z.number().int().positive().default(240),
    /** Dropped-packet warnings are summarised at most this often. */
    dropLogIntervalMs: z.number().int().positive().default(10_000),
    /**
     * Receive buffer asked of the kernel for the voice socket (SO_RCVBUF; Linux
     * caps it at net.core.rmem_max). It holds what arrives while the server is
     * busy; see docs/OPERATIONS.md (voice lane under a flood) for the sizing.
     */
    recvBufferBytes: z.number().int().min(65_536).max(1 << 30).default(4 << 20),
    /**
     * Experimental: worker threads that seal large fan-outs (one copy per
     * listener) off the main thread, which still does every UDP send.
     * 0 = seal everything on the main thread.
     */
    sealWorkers: z.number().int().min(0).max(16).default(0),
    /**
     * Worker threads that carry the voice lane, each with its own UDP socket:
     * shard i listens on the voice port + i (docs/OPERATIONS.md, voice shards).
     * 1 = the lane runs on the main thread. Unset: cores − 1 (1–8), or 1 when
     * the voice port is ephemeral (port 0). See voiceShardCount in
     * host/server/voice/shard-pool.ts.
     */
    shards: z.number().int().min(1).max(30).optional(),
  })
  .strict();

const PluginsConfig = z
  .object({
    /** Load installed plugins at all (off: the server runs without any). */
    enabled: z.boolean().default(true),
    /** How often installed plugins are compared with their files and grants (reload on change). */
    pollMs: z.number().int().min(100).default(1000),
    /** Period of the on_timer hook. */
    timerMs: z.number().int().min(50).default(1000),
    /** Bot messages per plugin: burst, then this many per second. */
    chatBurst: z.number().int().positive().default(5),
    chatPerSecond: z.number().positive().default(1),
    /**
     * Chat filters that fail closed: true = every filter, or a list of plugin
     * ids. Such a filter holds each message until it answers (up to its
     * killMs); when it cannot, the message is refused (FILTER_UNAVAILABLE)
     * instead of delivered unfiltered. Default false: fail-open, logged.
     */
    failClosed: z.union([z.boolean(), z.array(z.string().regex(/^[a-z][a-z0-9-]{1,39}$/))]).default(false),
  })
  .strict();

const MetricsConfig = z
  .object({
    /**
     * "host:port" of the HTTP endpoint serving /metrics (Prometheus text),
     * /healthz and /readyz. Unset: no endpoint (the default). It shows how many
     * people are online and where: bind it to loopback or a private network.
     */
    listen: z
      .string()
      .refine((v) => {
        try {
          parseListenAddress(v);
          return true;
        } catch {
          return false;
        }
      }, 'expected host:port, e.g. 127.0.0.1:9464 or [::1]:9464')
      .optional(),
  })
  .strict();

export const ServerConfigSchema = z
  .object({
    dataDir: z.string().default('./hearth-data'),
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(64738),
    serverName: z.string().min(1).max(64).default('Hearth'),
    welcomeText: z.string().max(2000).default('Welcome to Hearth.'),
    tls: z.object({ certFile: z.string().optional(), keyFile: z.string().optional() }).strict().default({}),
    registration: z.enum(['open', 'invite', 'closed']).default('open'),
    defaultRole: z.enum(ROLES).default('member'),
    limits: LimitsConfig.default(LimitsConfig.parse({})),
    loginThrottle: ThrottleConfig.default(ThrottleConfig.parse({})),
    log: LogConfig.default(LogConfig.parse({})),
    voice: VoiceConfig.default(VoiceConfig.parse({})),
    plugins: PluginsConfig.default(PluginsConfig.parse({})),
    metrics: MetricsConfig.default({}),
  })
  .strict();

export type ServerConfig = z.infer<typeof ServerConfigSchema>;
export type ServerConfigInput = z.input<typeof ServerConfigSchema>;

/** Deep-merges plain objects; later wins. Arrays and scalars are replaced. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export class ConfigError extends Error {}

/**
 * Builds the effective configuration. `file` is read if given (it must exist) or,
 * when absent, `<dataDir>/config.json` is read if it exists.
 */
export function loadServerConfig(overrides: ServerConfigInput = {}, file?: string): ServerConfig {
  const dataDir = overrides.dataDir ?? './hearth-data';
  // (an explicit --config file may itself name the data directory)
  const path = file ?? resolve(dataDir, 'config.json');
  let fromFile: Record<string, unknown> = {};
  if (file !== undefined || existsSync(path)) {
    try {
      fromFile = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
    }
  }
  const result = ServerConfigSchema.safeParse(merge(fromFile, overrides as Record<string, unknown>));
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  return { ...result.data, dataDir: resolve(result.data.dataDir) };
}
