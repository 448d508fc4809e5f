// The client's config files: small JSON documents in the config dir
// (core/paths.ts), each checked against a zod schema when read and written
// atomically (temp file + rename) so a crash mid-write leaves the old file
// whole, never half of the new one.
//
//   servers.json        saved servers (and, only when asked, their passwords)
//   known_hosts.json    trust on first use: "host:port" → certificate fingerprint
//   settings.json       devices, voice activation, per-user volume, plugin order
//   plugin-grants.json  what the user allowed each client-side plugin, by wasm sha256
//
// A file that is not valid JSON or fails its schema is never overwritten
// silently: reading it throws a ClientConfigError that names the file and what
// is wrong, saving it is refused until the user fixes it or calls reset(),
// which keeps the bad file aside as <name>.corrupt-<timestamp>. The other files
// keep working. Silently replacing a hand-edited file with defaults would lose
// the user's servers, or worse, forget a pinned certificate and trust whatever
// answers next.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { ClientConfigError, JsonConfigFile, writeFileAtomic, type ClientConfigProblem, type ConfigIssue } from './config-file.js';
import type { ClientPaths } from './paths.js';

export { ClientConfigError, JsonConfigFile, writeFileAtomic, type ClientConfigProblem, type ConfigIssue };

// ---------------------------------------------------------------------------
// servers.json

const serverId = z.string().min(1).max(64);

export const SavedServerSchema = z
  .object({
    id: serverId,
    label: z.string().max(200),
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535),
    username: z.string().min(1).max(64),
    /**
     * Present only when the user ticked "remember password". Stored in plain
     * text in a 0600 file (readable by this OS user only), as Mumble and
     * TeamSpeak do; the OS keyring (libsecret / Keychain / Credential Manager)
     * is the better place and should replace this later.
     */
    password: z.string().min(1).max(1024).optional(),
  })
  .strict();

export const ServersFileSchema = z
  .object({
    servers: z.array(SavedServerSchema).max(1000).default([]),
    /** The server to preselect at start; null when none. */
    lastServerId: serverId.nullable().default(null),
  })
  .strict()
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.servers.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['servers', i, 'id'], message: `duplicate server id "${s.id}"` });
      seen.add(s.id);
    });
  });

export type SavedServer = z.output<typeof SavedServerSchema>;
export type ServersFile = z.output<typeof ServersFileSchema>;

// ---------------------------------------------------------------------------
// known_hosts.json (same format as before the config store: { "host:port": fingerprint })

/** SHA-256 fingerprint as Node prints it: 32 hex byte pairs joined by ':'. */
const FINGERPRINT_RE = /^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/i;

export const KnownHostsSchema = z.record(z.string().min(1).max(300), z.string().regex(FINGERPRINT_RE, 'not a SHA-256 fingerprint (AA:BB:… 32 pairs)'));
export type KnownHostsFile = z.output<typeof KnownHostsSchema>;

export class FingerprintMismatchError extends Error {
  constructor(readonly hostKey: string, readonly expected: string, readonly actual: string) {
    super(
      `certificate fingerprint of ${hostKey} changed!\n  pinned:  ${expected}\n  offered: ${actual}\n` +
        'Either the server was reinstalled or someone is intercepting the connection. ' +
        'If the change is expected, accept the new certificate (or remove the entry from the known-hosts file) and connect again.',
    );
    this.name = 'FingerprintMismatchError';
  }
}

const normFp = (fp: string) => fp.toUpperCase();

/**
 * Trust on first use, as SSH does: the first time a client meets a server it
 * records the certificate's SHA-256 fingerprint; afterwards a different one is
 * refused with a clear error (the server's key changed, or someone is in
 * between). A corrupt file refuses everything (ClientConfigError) rather than
 * being replaced: replacing it would forget every pin and trust anyone.
 */
export class KnownHosts {
  private readonly store: JsonConfigFile<typeof KnownHostsSchema>;

  constructor(readonly file: string) {
    this.store = new JsonConfigFile(file, KnownHostsSchema, () => ({}));
  }

  get(hostKey: string): string | undefined {
    return this.store.load()[hostKey];
  }

  all(): KnownHostsFile {
    return this.store.load();
  }

  /** Pins on first use; throws FingerprintMismatchError on a change. Returns true if newly pinned. */
  verify(hostKey: string, fingerprint: string): boolean {
    const all = this.store.load();
    const pinned = all[hostKey];
    if (pinned === undefined) {
      this.store.save({ ...all, [hostKey]: normFp(fingerprint) });
      return true;
    }
    if (normFp(pinned) !== normFp(fingerprint)) throw new FingerprintMismatchError(hostKey, pinned, fingerprint);
    return false;
  }

  /** Pins `fingerprint`, replacing any earlier pin: the user's "accept this certificate". */
  pin(hostKey: string, fingerprint: string): void {
    this.store.update((all) => ({ ...all, [hostKey]: normFp(fingerprint) }));
  }

  /** Removes the pin; the next connection pins whatever it meets. Returns whether there was one. */
  forget(hostKey: string): boolean {
    const all = this.store.load();
    if (!Object.hasOwn(all, hostKey)) return false;
    const { [hostKey]: _gone, ...rest } = all;
    this.store.save(rest);
    return true;
  }
}

// ---------------------------------------------------------------------------
// settings.json

/** Linear gain, 1 = unchanged (0..4 = silence..+12 dB). */
const linearGain = z.number().min(0).max(4);

export const UserAudioSchema = z
  .object({
    volume: linearGain.default(1),
    /** Local mute: only this client stops hearing the user. */
    muted: z.boolean().default(false),
    /** -1 = left, 0 = centre, 1 = right. */
    pan: z.number().min(-1).max(1).default(0),
  })
  .strict();

export const SettingsSchema = z
  .object({
    input: z
      .object({
        /** Device name as the audio backend lists it; null = the system default. */
        device: z.string().min(1).max(512).nullable().default(null),
        gainDb: z.number().min(-40).max(40).default(0),
      })
      .strict()
      .prefault({}),
    output: z
      .object({
        device: z.string().min(1).max(512).nullable().default(null),
        volume: linearGain.default(1),
      })
      .strict()
      .prefault({}),
    voice: z
      .object({
        /** vad: voice activity; ptt: push to talk; continuous: always transmitting. */
        mode: z.enum(['vad', 'ptt', 'continuous']).default('vad'),
        /** Level (dBFS) above which the gate opens in vad mode. */
        vadThresholdDb: z.number().min(-100).max(0).default(-45),
        /** The gate stays open this long after the level drops, so word endings are not clipped. */
        vadHangoverMs: z.number().int().min(0).max(5000).default(300),
        /** KeyboardEvent.code of the push-to-talk key. */
        pttKey: z.string().min(1).max(64).default('Space'),
      })
      .strict()
      .prefault({}),
    /** Per-user playback settings, by user name. */
    users: z.record(z.string().min(1).max(64), UserAudioSchema).default({}),
    plugins: z
      .object({
        /** Plugins switched on or off by the user, by plugin id. */
        enabled: z.record(z.string().min(1).max(64), z.boolean()).default({}),
        /** Order of the capture chain's effect plugins; absent = manifest order. */
        order: z.array(z.string().min(1).max(64)).max(256).optional(),
        /** Config of each plugin, by id, overlaid on its manifest's defaults and checked against its schema (e.g. {"ns": {"maxAttenuationDb": 18}}). */
        config: z.record(z.string().min(1).max(64), z.record(z.string(), z.unknown())).default({}),
      })
      .strict()
      .prefault({}),
    /** The desktop UI (absent in older files: defaults apply). */
    ui: z
      .object({
        /** Id of the layout plugin to draw the UI with; null = the default layout. "builtin" = the built-in layout, no plugin. */
        layout: z.string().regex(/^[a-z][a-z0-9-]{1,39}$/).nullable().default(null),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Settings = z.output<typeof SettingsSchema>;
export type SettingsInput = z.input<typeof SettingsSchema>;
export type UserAudio = z.output<typeof UserAudioSchema>;

export const defaultSettings = (): Settings => SettingsSchema.parse({});

// ---------------------------------------------------------------------------
// plugin-grants.json

const SHA256_RE = /^[0-9a-f]{64}$/;

export const PluginGrantSchema = z
  .object({
    // Same rules as manifests (host/plugins/manifest.ts).
    pluginId: z.string().regex(/^[a-z][a-z0-9-]{1,39}$/),
    version: z.string().max(64).regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/),
    /** Capability names the user approved, e.g. "audio.intercept". */
    grants: z.array(z.string().regex(/^[a-z][a-z0-9._-]{0,63}$/)).max(64),
    /** ms since the epoch. */
    grantedAt: z.number().int().nonnegative(),
  })
  .strict();

/** Keyed by the wasm's sha256 (lowercase hex): a grant covers those exact bytes only. */
export const PluginGrantsSchema = z.record(z.string().regex(SHA256_RE, 'key must be a sha256 (64 lowercase hex digits)'), PluginGrantSchema);

export type PluginGrant = z.output<typeof PluginGrantSchema>;
export type PluginGrantsFile = z.output<typeof PluginGrantsSchema>;

// ---------------------------------------------------------------------------
// The store

export const CONFIG_FILES = ['servers.json', 'known_hosts.json', 'settings.json', 'plugin-grants.json'] as const;
export type ConfigFileName = (typeof CONFIG_FILES)[number];

export type ServerEntryInput = Omit<SavedServer, 'id'> & { id?: string };

export class ClientConfigStore {
  readonly dir: string;
  readonly knownHosts: KnownHosts;
  private readonly files: {
    'servers.json': JsonConfigFile<typeof ServersFileSchema>;
    'known_hosts.json': JsonConfigFile<typeof KnownHostsSchema>;
    'settings.json': JsonConfigFile<typeof SettingsSchema>;
    'plugin-grants.json': JsonConfigFile<typeof PluginGrantsSchema>;
  };

  /** `where`: the config dir, or the result of clientPaths(). */
  constructor(where: string | Pick<ClientPaths, 'configDir'>) {
    this.dir = typeof where === 'string' ? where : where.configDir;
    // Every file is 0600: servers.json may hold passwords, and the others decide
    // whom the client trusts and what plugins may do, which other local users
    // must not be able to change.
    this.files = {
      'servers.json': new JsonConfigFile(join(this.dir, 'servers.json'), ServersFileSchema, () => ({ servers: [], lastServerId: null })),
      'known_hosts.json': new JsonConfigFile(join(this.dir, 'known_hosts.json'), KnownHostsSchema, () => ({})),
      'settings.json': new JsonConfigFile(join(this.dir, 'settings.json'), SettingsSchema, defaultSettings),
      'plugin-grants.json': new JsonConfigFile(join(this.dir, 'plugin-grants.json'), PluginGrantsSchema, () => ({})),
    };
    this.knownHosts = new KnownHosts(this.files['known_hosts.json'].path);
  }

  path(file: ConfigFileName): string {
    return this.files[file].path;
  }

  /** Every file's problem (null: fine or absent), e.g. for the UI to offer fixes at start. */
  check(): Record<ConfigFileName, ClientConfigError | null> {
    return Object.fromEntries(CONFIG_FILES.map((f) => [f, this.files[f].problem()])) as Record<ConfigFileName, ClientConfigError | null>;
  }

  /** Moves `file` aside as <name>.corrupt-<timestamp>; it reads as defaults from now on. Returns the new name, or null. */
  reset(file: ConfigFileName, now = new Date()): string | null {
    return this.files[file].reset(now);
  }

  // servers.json ------------------------------------------------------------

  loadServers(): ServersFile {
    const f = this.files['servers.json'].load();
    // A dangling lastServerId (server removed by hand) is harmless: just no preselection.
    if (f.lastServerId !== null && !f.servers.some((s) => s.id === f.lastServerId)) return { ...f, lastServerId: null };
    return f;
  }

  saveServers(value: z.input<typeof ServersFileSchema>): ServersFile {
    return this.files['servers.json'].save(value);
  }

  /**
   * Adds or replaces a saved server (by id; a new id when none is given).
   * The password is written only with `rememberPassword: true`;
   * `rememberPassword: false` removes a stored one; omitted keeps what is stored.
   */
  upsertServer(entry: ServerEntryInput, opts: { rememberPassword?: boolean } = {}): SavedServer {
    let saved: SavedServer | undefined;
    this.files['servers.json'].update((f) => {
      const id = entry.id ?? randomUUID();
      const old = f.servers.find((s) => s.id === id);
      const { password, ...rest } = entry;
      const keep = opts.rememberPassword === true ? password : opts.rememberPassword === false ? undefined : old?.password;
      saved = { ...rest, id, ...(keep !== undefined ? { password: keep } : {}) };
      const servers = old ? f.servers.map((s) => (s.id === id ? saved! : s)) : [...f.servers, saved];
      return { ...f, servers };
    });
    return saved!;
  }

  removeServer(id: string): boolean {
    let removed = false;
    this.files['servers.json'].update((f) => {
      removed = f.servers.some((s) => s.id === id);
      return { servers: f.servers.filter((s) => s.id !== id), lastServerId: f.lastServerId === id ? null : f.lastServerId };
    });
    return removed;
  }

  setLastServer(id: string | null): void {
    this.files['servers.json'].update((f) => ({ ...f, lastServerId: id }));
  }

  // settings.json -----------------------------------------------------------

  loadSettings(): Settings {
    return this.files['settings.json'].load();
  }

  saveSettings(value: SettingsInput): Settings {
    return this.files['settings.json'].save(value);
  }

  /** Read-modify-write: `fn` gets the current settings (a copy it may change) and returns the new ones. */
  updateSettings(fn: (current: Settings) => SettingsInput): Settings {
    return this.files['settings.json'].update((s) => fn(structuredClone(s)));
  }

  // plugin-grants.json ------------------------------------------------------

  loadPluginGrants(): PluginGrantsFile {
    return this.files['plugin-grants.json'].load();
  }

  /**
   * What the user granted the plugin whose wasm hashes to `sha256`. Only a
   * grant recorded for that exact hash counts: an updated (or tampered) wasm
   * gets nothing until the user approves it again. With `pluginId`, a grant
   * recorded under another plugin id counts for nothing either.
   */
  grantsFor(sha256: string, pluginId?: string): string[] {
    const g = this.loadPluginGrants()[sha256.toLowerCase()];
    if (!g || (pluginId !== undefined && g.pluginId !== pluginId)) return [];
    return [...g.grants];
  }

  recordGrants(sha256: string, grant: { pluginId: string; version: string; grants: readonly string[] }, now = Date.now()): PluginGrant {
    const key = sha256.toLowerCase();
    const entry: PluginGrant = { pluginId: grant.pluginId, version: grant.version, grants: [...new Set(grant.grants)], grantedAt: now };
    this.files['plugin-grants.json'].update((all) => ({ ...all, [key]: entry }));
    return entry;
  }

  revokeGrants(sha256: string): boolean {
    const key = sha256.toLowerCase();
    let had = false;
    this.files['plugin-grants.json'].update((all) => {
      had = Object.hasOwn(all, key);
      const { [key]: _gone, ...rest } = all;
      return rest;
    });
    return had;
  }
}
