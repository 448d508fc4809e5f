// Every user action the client core understands. The UI, the headless client
// and the tests all drive the core only by pushing these onto its queue.
import type { CaptureSpec, PlaybackSpec } from '../audio/engine-protocol.js';
import type { GateMode } from '../audio/gate.js';

export interface ServerAddress {
  host: string;
  port: number;
}

export type ClientAction =
  | {
      type: 'connect';
      server: ServerAddress;
      username: string;
      password: string;
      /** Exact fingerprint to require; without it, trust on first use through the known-hosts store. */
      fingerprint?: string;
      /** Register instead of logging in (with an invite or the bootstrap token when the server needs one). */
      register?: { invite?: string; bootstrapToken?: string };
      /** Channel to join after login, by name or id (default: stay where the server puts us). */
      channel?: string | number;
    }
  | { type: 'disconnect' }
  /** The user accepted a changed or new certificate shown in the state: pin it and connect again. */
  | { type: 'trust.accept'; hostKey: string; fingerprint: string }
  /** Unpins host:port's certificate (a server that really changed it): the next connect shows its fingerprint for a first-use choice again. */
  | { type: 'trust.forget'; hostKey: string }
  | { type: 'join'; channelId: number }
  | { type: 'chat.send'; channelId?: number; text: string }
  | { type: 'chat.direct'; userId: number; text: string }
  | { type: 'self.mute'; on: boolean }
  | { type: 'self.deaf'; on: boolean }
  | { type: 'ptt'; down: boolean }
  | { type: 'voice.mode'; mode: GateMode; thresholdDb?: number; hangoverMs?: number }
  | { type: 'user.volume'; username: string; volume: number; pan?: number }
  | { type: 'user.mute'; username: string; muted: boolean }
  | { type: 'output.volume'; volume: number }
  | { type: 'devices.select'; capture?: CaptureSpec; playback?: PlaybackSpec }
  | { type: 'devices.reopen' }
  /** Refreshes audio.available (the sound cards to choose from). */
  | { type: 'devices.list' }
  | { type: 'loopback'; on: boolean }
  /** Switches a client audio plugin on or off, live in the chain (saved in settings.json plugins.enabled). */
  | { type: 'plugin.enable'; pluginId: string; on: boolean }
  /** Replaces a client plugin's config (overlaid on its manifest's defaults, checked against its schema); saved in settings.json. */
  | { type: 'plugin.config'; pluginId: string; config: Record<string, unknown> }
  /** Grants these capabilities (only ones its manifest asks for) to the plugin's exact wasm, by sha256 (plugin-grants.json). */
  | { type: 'plugin.grant'; pluginId: string; capabilities: string[] }
  /** Withdraws the grant of the plugin's wasm: it stops running. */
  | { type: 'plugin.revoke'; pluginId: string }
  /** Any other server request (channel management, moderation): passed through, its reply or error lands in the state. */
  | { type: 'request'; method: string; fields: Record<string, unknown>; tag?: string }
  // ---- the desktop UI (handled in core/ui-actions.ts) ----
  /** Adds (no id) or replaces (id) a saved server in servers.json; the password is stored only with rememberPassword. */
  | { type: 'servers.save'; id?: string; label: string; host: string; port: number; username: string; password?: string; rememberPassword: boolean }
  | { type: 'servers.remove'; id: string }
  /** Connects to a saved server; `password` overrides (or stands in for) the stored one. */
  | { type: 'servers.connect'; serverId: string; password?: string; register?: { invite?: string; bootstrapToken?: string }; channel?: string | number }
  /** Loads older messages of a channel (default: ours), before the oldest one we hold (or `beforeId`). */
  | { type: 'chat.history'; channelId?: number; beforeId?: number; limit?: number }
  /** Chooses the layout plugin by id (null: the default layout; "builtin": no plugin); saved in settings.json. */
  | { type: 'layout.select'; pluginId: string | null }
  /** The push-to-talk key (KeyboardEvent.code); saved in settings.json. */
  | { type: 'ptt.key'; key: string }
  /** The user quit from the UI: the desktop runner shuts the client down. */
  | { type: 'quit' };

export type ClientActionType = ClientAction['type'];
