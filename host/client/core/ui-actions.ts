// The actions the desktop UI adds to the core: saved servers (servers.json),
// loading older chat, the layout choice and the push-to-talk key
// (settings.json), and quitting. Kept out of client-core.ts, which is the
// network actor; these only touch the config store and the view.
import type { ControlClient } from '../control/control-client.js';
import type { ChatMessageView } from '../../protocol/server-messages.js';
import type { ClientAction } from './actions.js';
import type { ClientConfigStore } from './config-store.js';
import type { CoreView } from './snapshot-builder.js';
import type { ClientSnapshot } from './snapshot.js';

export const UI_ACTIONS = new Set<ClientAction['type']>(['servers.save', 'servers.remove', 'servers.connect', 'chat.history', 'layout.select', 'ptt.key', 'quit']);

/** Most chat messages the core holds (live ones and loaded history together). */
export const MAX_CHAT = 2000;

export interface UiActionContext {
  view(): CoreView;
  store(): ClientConfigStore | undefined;
  control(): ControlClient | null;
  selfChannel(): number | null;
  /** Puts an action on the core's own queue (after the one being handled). */
  push(a: ClientAction): void;
  addError(code: string, message: string): void;
  quit(): void;
}

/** The saved servers as the snapshot shows them (no passwords). */
export function serversView(store: ClientConfigStore | undefined): { value: ClientSnapshot['servers']; error: Error | null } {
  if (!store) return { value: { list: [], lastServerId: null }, error: null };
  try {
    const f = store.loadServers();
    let pins: Record<string, string> = {};
    try {
      pins = store.knownHosts.all();
    } catch {
      // a corrupt known_hosts.json is reported when a connect needs it; the list still shows
    }
    return {
      value: {
        list: f.servers.map((s) => ({ id: s.id, label: s.label, host: s.host, port: s.port, username: s.username, hasPassword: s.password !== undefined, pinnedFingerprint: pins[`${s.host}:${s.port}`] ?? null })),
        lastServerId: f.lastServerId,
      },
      error: null,
    };
  } catch (err) {
    return { value: { list: [], lastServerId: null }, error: err as Error };
  }
}

/** Initial UI fields of the view, from the store (settings problems are reported by the core's settings load). */
export function uiViewFields(store: ClientConfigStore | undefined): Pick<CoreView, 'servers' | 'layout' | 'pttKey' | 'quitting'> & { error: Error | null } {
  const servers = serversView(store);
  let layout: string | null = null;
  let pttKey = 'Space';
  try {
    if (store) {
      const s = store.loadSettings();
      layout = s.ui.layout;
      pttKey = s.voice.pttKey;
    }
  } catch {
    // a bad settings.json is reported once, by loadSettings in the core
  }
  return { servers: servers.value, layout: { active: layout, selections: 0 }, pttKey, quitting: false, error: servers.error };
}

export function mergeChat(chat: ChatMessageView[], more: ChatMessageView[]): void {
  const have = new Set(chat.map((c) => c.id));
  chat.push(...more.filter((c) => !have.has(c.id)));
  chat.sort((x, y) => x.id - y.id);
  if (chat.length > MAX_CHAT) chat.splice(0, chat.length - MAX_CHAT);
}

function needStore(ctx: UiActionContext): ClientConfigStore {
  const store = ctx.store();
  if (!store) throw new Error('this client keeps no config files (no store)');
  return store;
}

export async function handleUiAction(ctx: UiActionContext, a: ClientAction): Promise<void> {
  const v = ctx.view();
  const store = ctx.store();
  switch (a.type) {
    case 'servers.save': {
      const st = needStore(ctx);
      st.upsertServer(
        { ...(a.id ? { id: a.id } : {}), label: a.label || `${a.username}@${a.host}`, host: a.host, port: a.port, username: a.username, ...(a.password ? { password: a.password } : {}) },
        { rememberPassword: a.rememberPassword && Boolean(a.password) ? true : a.rememberPassword ? undefined : false },
      );
      v.servers = serversView(st).value;
      break;
    }
    case 'servers.remove': {
      const st = needStore(ctx);
      if (!st.removeServer(a.id)) ctx.addError('NOT_FOUND', `no saved server ${a.id}`);
      v.servers = serversView(st).value;
      break;
    }
    case 'servers.connect': {
      const st = needStore(ctx);
      const s = st.loadServers().servers.find((x) => x.id === a.serverId);
      if (!s) return ctx.addError('NOT_FOUND', `no saved server ${a.serverId}`);
      const password = a.password ?? s.password;
      if (!password) return ctx.addError('PASSWORD_NEEDED', `enter the password for ${s.username} on ${s.label || s.host}`);
      st.setLastServer(s.id);
      v.servers = serversView(st).value;
      ctx.push({
        type: 'connect',
        server: { host: s.host, port: s.port },
        username: s.username,
        password,
        ...(a.register ? { register: a.register } : {}),
        ...(a.channel !== undefined ? { channel: a.channel } : {}),
      });
      break;
    }
    case 'chat.history': {
      const control = ctx.control();
      if (!control) throw new Error('not connected');
      const channelId = a.channelId ?? ctx.selfChannel();
      if (channelId === null) throw new Error('not in a channel');
      const oldest = v.chat.find((m) => m.channelId === channelId)?.id;
      const beforeId = a.beforeId ?? oldest;
      const r = (await control.request('chat.history', { channelId, limit: a.limit ?? 50, ...(beforeId !== undefined ? { beforeId } : {}) })) as { messages?: ChatMessageView[] };
      mergeChat(v.chat, r.messages ?? []);
      break;
    }
    case 'layout.select':
      v.layout = { active: a.pluginId, selections: v.layout.selections + 1 };
      store?.updateSettings((cur) => ({ ...cur, ui: { ...cur.ui, layout: a.pluginId } }));
      break;
    case 'ptt.key':
      v.pttKey = a.key;
      store?.updateSettings((cur) => ({ ...cur, voice: { ...cur.voice, pttKey: a.key } }));
      break;
    case 'quit':
      v.quitting = true;
      ctx.quit();
      break;
    default:
      break;
  }
}
