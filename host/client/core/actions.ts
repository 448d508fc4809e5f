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
  | { type: 'plugin.enable'; pluginId: string; on: boolean }
  /** Any other server request (channel management, moderation): passed through, its reply or error lands in the state. */
  | { type: 'request'; method: string; fields: Record<string, unknown>; tag?: string };

export type ClientActionType = ClientAction['type'];
