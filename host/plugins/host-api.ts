// Host API v1 as seen by a guest. This code runs inside the plugin's sandbox
// thread, next to the guest, and never blocks on the owner: everything a host
// function needs is local to the thread (the latest state snapshot pushed by
// the owner, the plugin's own key/value data, its config), and everything it
// asks the host to *do* (send chat, kick, persist a key, log) is recorded as
// an Effect and handed to the owner with the call's result.
//
// Calling convention (every function in module "extism:host/user"): one
// argument, the Extism offset of a UTF-8 JSON request; returns the offset of
// a UTF-8 JSON reply. Failures are replies too: {"error": CODE, "message": ...}.
// A function whose capability was not granted replies
//   {"error":"CAPABILITY_DENIED","function":"hearth_kv_set","capability":"storage","message":...}
// and the host logs a warning.
import type { CallContext } from '@extism/extism';
import { HOST_FUNCTIONS, HOST_MODULE, KERNEL_MODULE, type Capability, type HostFunctionName } from './capabilities.js';
import type { Effect, LogLevel } from './protocol.js';
import { badRequest, ChatSendRequest, KEY_CHARS, KvKeyRequest, KvSetRequest, LogRequest, ModerateRequest, TEXT_CHARS } from './host-requests.js';

/** Per-call caps on what one call may ask of the host. */
export const CALL_LIMITS = {
  /** chat.send + moderation effects per call. */
  actions: 16,
  /** Log lines per call, counted separately for the guest's own lines and the host's notes about it (more are dropped and counted). */
  logLines: 32,
  /** Characters of one log line / chat message. */
  textChars: TEXT_CHARS,
  keyChars: KEY_CHARS,
  valueBytes: 64 * 1024,
  /**
   * Extism memory blocks the host may hand out in one call (allocations,
   * replies). Extism rc13 scans every block on each alloc (quadratic in the
   * count), and a block's index lives in 16 bits of its address.
   */
  blocks: 8192,
} as const;

type HostFn = (cp: CallContext, ...args: bigint[]) => bigint | number | void;

export interface GuestApiInit {
  pluginId: string;
  grants: ReadonlySet<string>;
  config: Record<string, unknown>;
  kv: [string, string][];
  state: unknown;
  storageBytes: number;
  /**
   * Bytes of Extism memory the host may hand the guest during one call: its
   * own allocations, every host-function reply, config and var reads. The
   * guest's limits.memoryMiB.
   */
  hostAllocBytes: number;
}

const encoder = new TextEncoder();

function byteLength(s: string): number {
  return encoder.encode(s).length;
}

export class GuestHostApi {
  state: unknown;
  readonly kv: Map<string, string>;
  private kvBytes = 0;
  private effects: Effect[] = [];
  private actions = 0;
  private logLines = 0;
  private hostLines = 0;
  private droppedLogs = 0;
  /** Bytes and blocks of Extism memory handed to the guest in this call (freed or not). */
  private handedBytes = 0;
  private handedBlocks = 0;
  /** Key/value writes of the current call, coalesced by key (null: deleted). */
  private kvChanges = new Map<string, string | null>();
  private abortReason: string | null = null;
  private readonly init: GuestApiInit;

  constructor(init: GuestApiInit) {
    this.init = init;
    this.state = init.state;
    this.kv = new Map(init.kv);
    for (const [k, v] of this.kv) this.kvBytes += byteLength(k) + byteLength(v);
  }

  beginCall(): void {
    this.actions = 0;
    this.logLines = 0;
    this.hostLines = 0;
    this.droppedLogs = 0;
    this.kvChanges.clear();
    this.handedBytes = 0;
    this.handedBlocks = 0;
    this.abortReason = null;
  }

  /** The effects recorded since the last call, plus a note about dropped log lines. */
  takeEffects(): Effect[] {
    for (const [key, value] of this.kvChanges) {
      this.effects.push(value === null ? { kind: 'kv.delete', key } : { kind: 'kv.set', key, value });
    }
    this.kvChanges.clear();
    if (this.droppedLogs) {
      this.effects.push({ kind: 'log', level: 'warn', source: 'host', msg: `dropped ${this.droppedLogs} log lines over the per-call limit of ${CALL_LIMITS.logLines}` });
    }
    const out = this.effects;
    this.effects = [];
    return out;
  }

  /** Why the guest aborted (recorded by hearth_abort just before it trapped). */
  get abortMessage(): string | null {
    return this.abortReason;
  }

  /** A log line from the host side of the sandbox (Extism's own messages, denials). */
  hostLog(level: LogLevel, msg: string, data?: Record<string, unknown>): void {
    if (this.hostLines >= CALL_LIMITS.logLines) {
      this.droppedLogs++;
      return;
    }
    this.hostLines++;
    this.effects.push({ kind: 'log', level, source: 'host', msg, ...(data ? { data } : {}) });
  }

  /** Channel ids of the newest state snapshot (null: no snapshot, e.g. before the first publish). */
  private channels(): Set<number> | null {
    const st = this.state as { channels?: { id?: unknown }[] } | null;
    if (!st || !Array.isArray(st.channels) || st.channels.length === 0) return null;
    return new Set(st.channels.map((c) => c.id).filter((id): id is number => typeof id === 'number'));
  }

  /** The online user of the snapshot: its entry, null when not online, undefined when the snapshot cannot tell. */
  private onlineUser(userId: number): { role?: unknown } | null | undefined {
    const st = this.state as { users?: { id?: unknown; role?: unknown }[] } | null;
    if (!st || !Array.isArray(st.users)) return undefined;
    return st.users.find((u) => u.id === userId) ?? null;
  }

  private granted(cap: Capability | null): boolean {
    return cap === null || this.init.grants.has(cap);
  }

  private deny(fn: string, cap: Capability): Record<string, unknown> {
    this.hostLog('warn', `called ${fn} without the "${cap}" capability (denied)`, { function: fn, capability: cap });
    return {
      error: 'CAPABILITY_DENIED',
      function: fn,
      capability: cap,
      message: `${fn} needs the "${cap}" capability, which this plugin was not granted`,
    };
  }

  /**
   * Counts `bytes` more of host memory against this call's budget, before it
   * is allocated. Over the budget the host function throws: the guest traps
   * (the runtime reports a "memory" fault) and the call's blocks are dropped.
   * Why: Extism rc13 allocates a block before it checks memory.maxPages, and
   * store() of a string skips that check; 20,000 60 KB kv_get replies in one
   * call grew the server by 860 MB.
   */
  private charge(bytes: number, what: string): void {
    this.handedBytes += bytes;
    this.handedBlocks++;
    if (this.handedBytes > this.init.hostAllocBytes) {
      throw new Error(
        `host memory limit: ${what} would bring the Extism memory handed to the guest in one call to ${this.handedBytes} bytes (limit ${this.init.hostAllocBytes}, limits.memoryMiB)`,
      );
    }
    if (this.handedBlocks > CALL_LIMITS.blocks) {
      throw new Error(`host memory limit: more than ${CALL_LIMITS.blocks} Extism memory blocks in one call (${what})`);
    }
  }

  /** Stores bytes for the guest, counted. */
  private store(cp: CallContext, data: string | Uint8Array, what: string): bigint {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    this.charge(bytes.length, what);
    return cp.store(bytes);
  }

  private reply(cp: CallContext, value: unknown, fn = 'a host function'): bigint {
    return this.store(cp, JSON.stringify(value), `the reply of ${fn}`);
  }

  private request(cp: CallContext, offset: bigint): Record<string, unknown> | null {
    const block = cp.read(offset);
    if (!block) return null;
    try {
      const v: unknown = JSON.parse(block.text());
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  private action(effect: Effect): Record<string, unknown> {
    if (this.actions >= CALL_LIMITS.actions) {
      return { error: 'RATE_LIMITED', message: `at most ${CALL_LIMITS.actions} chat/moderation actions per call` };
    }
    this.actions++;
    this.effects.push(effect);
    return { ok: true };
  }

  private log(level: LogLevel, msg: string, source: 'guest' | 'host' = 'guest'): void {
    if (this.logLines >= CALL_LIMITS.logLines) {
      this.droppedLogs++;
      return;
    }
    this.logLines++;
    this.effects.push({ kind: 'log', level, source, msg: msg.slice(0, CALL_LIMITS.textChars) });
  }

  private handlers: Record<HostFunctionName, (req: Record<string, unknown>) => unknown> = {
    hearth_state_read: () => this.state ?? { channels: [], users: [] },
    hearth_chat_send: (req) => {
      const r = ChatSendRequest.safeParse(req);
      if (!r.success) return badRequest(r.error);
      const { text, channelId } = r.data;
      const known = this.channels();
      if (channelId !== undefined && known && !known.has(channelId)) return { error: 'NOT_FOUND', message: `there is no channel ${channelId}` };
      const out = this.action({ kind: 'chat.send', text, ...(channelId !== undefined ? { channelId } : {}) });
      return out.ok ? { ok: true, queued: true } : out;
    },
    hearth_kv_get: (req) => {
      const r = KvKeyRequest.safeParse(req);
      if (!r.success) return badRequest(r.error);
      return { ok: true, value: this.kv.get(r.data.key) ?? null };
    },
    hearth_kv_set: (req) => {
      const r = KvSetRequest.safeParse(req);
      if (!r.success) return badRequest(r.error);
      const { key, value } = r.data;
      const size = byteLength(value);
      if (size > CALL_LIMITS.valueBytes) return { error: 'BAD_REQUEST', message: `value is larger than ${CALL_LIMITS.valueBytes} bytes` };
      const old = this.kv.get(key);
      const delta = byteLength(key) + size - (old === undefined ? 0 : byteLength(key) + byteLength(old));
      if (this.kvBytes + delta > this.init.storageBytes) {
        return { error: 'QUOTA_EXCEEDED', message: `storage quota of ${this.init.storageBytes} bytes would be exceeded` };
      }
      this.kvBytes += delta;
      this.kv.set(key, value);
      this.kvChanges.set(key, value);
      return { ok: true };
    },
    hearth_kv_delete: (req) => {
      const r = KvKeyRequest.safeParse(req);
      if (!r.success) return badRequest(r.error);
      const key = r.data.key;
      const old = this.kv.get(key);
      if (old === undefined) return { ok: true, existed: false };
      this.kv.delete(key);
      this.kvBytes -= byteLength(key) + byteLength(old);
      this.kvChanges.set(key, null);
      return { ok: true, existed: true };
    },
    hearth_moderate: (req) => {
      const r = ModerateRequest.safeParse(req);
      if (!r.success) return badRequest(r.error);
      const { action, userId } = r.data;
      // Refused here, with the reason, when the snapshot already tells; the
      // server checks again when it carries the action out (the snapshot may be stale).
      const target = this.onlineUser(userId);
      if (target === null) return { error: 'NOT_ONLINE', message: `user ${userId} has no session on this server; nothing to ${action}` };
      if (target?.role === 'admin') return { error: 'FORBIDDEN', message: `user ${userId} is an admin: plugins never kick or mute an admin` };
      const out = this.action({ kind: 'moderation', action, userId, reason: r.data.reason ?? '' });
      return out.ok ? { ok: true, queued: true } : out;
    },
    hearth_log: (req) => {
      const r = LogRequest.safeParse(req);
      if (!r.success) return badRequest(r.error);
      this.log(r.data.level ?? 'info', r.data.msg);
      return { ok: true };
    },
    hearth_config_get: () => ({ ok: true, config: this.init.config }),
    hearth_abort: (req) => {
      const where = typeof req.file === 'string' && req.file ? ` (at ${req.file}:${String(req.line)}:${String(req.column)})` : '';
      this.abortReason = `${typeof req.message === 'string' ? req.message.slice(0, 500) : 'abort'}${where}`;
      return { ok: true };
    },
  };

  private kernelLog(level: LogLevel): HostFn {
    return (cp, offset) => {
      if (!this.granted('log')) {
        this.deny(`log_${level}`, 'log');
        return;
      }
      const block = offset === undefined ? null : cp.read(offset);
      if (block) this.log(level, block.text());
    };
  }

  /** Config as Extism's config_get sees it: strings, only when config.read was granted. */
  extismConfig(): Record<string, string> {
    const out: Record<string, string> = {};
    if (!this.init.grants.has('config.read')) return out;
    for (const [k, v] of Object.entries(this.init.config)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    return out;
  }

  /** The `functions` option for Extism's createPlugin. */
  functions(): Record<string, Record<string, HostFn>> {
    const user: Record<string, HostFn> = {};
    for (const [name, cap] of Object.entries(HOST_FUNCTIONS) as [HostFunctionName, Capability | null][]) {
      const handler = this.handlers[name];
      user[name] = (cp, offset) => {
        if (!this.granted(cap)) return this.reply(cp, this.deny(name, cap!), name);
        const req = offset === undefined ? null : this.request(cp, offset);
        if (req === null) return this.reply(cp, { error: 'BAD_REQUEST', message: 'the request must be a JSON object' }, name);
        return this.reply(cp, handler(req), name);
      };
    }
    const denyNetwork: HostFn = (cp, offset) => {
      const block = offset === undefined ? null : cp.read(offset);
      let url = '?';
      try {
        url = String((JSON.parse(block?.text() ?? '{}') as { url?: unknown }).url ?? '?').slice(0, 200);
      } catch {
        // not JSON: report the attempt without the URL
      }
      this.hostLog('warn', 'tried an HTTP request (denied: plugins have no network access)', { url });
      return this.reply(cp, { error: 'NETWORK_DENIED', message: 'Hearth plugins have no network access' }, 'http_request');
    };
    const text = (cp: CallContext, offset: bigint | undefined): string | null => (offset === undefined ? null : (cp.read(offset)?.text() ?? null));
    const kernel: Record<string, HostFn> = {
      // Extism's own allocator, with a per-call cap on what the guest can make the host hold.
      alloc: (cp, n) => {
        const size = Number(n ?? 0n);
        this.charge(size, `an allocation of ${size} bytes`);
        return cp.alloc(size);
      },
      // Extism's own config_get / var_get store a copy on every call, uncounted: replaced by counted ones.
      config_get: (cp, offset) => {
        const key = text(cp, offset);
        const config = this.extismConfig();
        return key !== null && Object.hasOwn(config, key) ? this.store(cp, config[key]!, 'config_get') : 0n;
      },
      var_get: (cp, offset) => {
        const key = text(cp, offset);
        const v = key === null ? null : cp.getVariable(key);
        return v ? this.store(cp, v.bytes(), 'var_get') : 0n;
      },
      http_request: denyNetwork,
      http_status_code: () => 0,
      http_headers: () => 0n,
      log_trace: this.kernelLog('debug'),
      log_debug: this.kernelLog('debug'),
      log_info: this.kernelLog('info'),
      log_warn: this.kernelLog('warn'),
      log_error: this.kernelLog('error'),
    };
    return { [HOST_MODULE]: user, [KERNEL_MODULE]: kernel };
  }
}
