// Capabilities a plugin can ask for in its manifest, and what each one guards.
// The host grants exactly the set the admin approved (intersected with what
// the manifest requests); every host function and every data-revealing hook
// checks it.

export const CAPABILITIES = [
  'state.read', // hearth_state_read; the on_join / on_leave hooks
  'chat.intercept', // the on_chat hook (see every message; allow / rewrite / block)
  'chat.inject', // hearth_chat_send (post as the plugin's bot identity)
  'audio.intercept', // the on_audio / on_audio_raw / on_aec_raw hooks (the f32 frame before Opus)
  'storage', // hearth_kv_get / _set / _delete (persisted in SQLite)
  'moderation', // hearth_moderate (kick / mute / unmute)
  'log', // hearth_log and Extism's log_* imports
  'config.read', // hearth_config_get and Extism's config_get
  'ui.layout', // the on_layout hook (client only: arranges the desktop UI; sees the LayoutInput summary)
] as const;
export type Capability = (typeof CAPABILITIES)[number];

// on_aec_raw: the echo-cancellation slot of the capture chain (host/plugins/chain/):
// its input is the mic frame followed by the far-end reference frame.
// on_layout: the client's UI layout (host/client/ui/layout-host.ts): LayoutInput in, LayoutTree out.
export const HOOKS = ['on_chat', 'on_join', 'on_leave', 'on_command', 'on_timer', 'on_audio', 'on_audio_raw', 'on_aec_raw', 'on_layout'] as const;
export type HookName = (typeof HOOKS)[number];

/** The capability a hook needs before the host will call it (null: none). */
export const HOOK_CAPABILITY: Record<HookName, Capability | null> = {
  on_chat: 'chat.intercept',
  on_join: 'state.read',
  on_leave: 'state.read',
  on_command: null,
  on_timer: null,
  on_audio: 'audio.intercept',
  on_audio_raw: 'audio.intercept',
  on_aec_raw: 'audio.intercept',
  on_layout: 'ui.layout',
};

/** Host API v1: import name (module "extism:host/user") -> capability (null: always allowed). */
export const HOST_FUNCTIONS = {
  hearth_state_read: 'state.read',
  hearth_chat_send: 'chat.inject',
  hearth_kv_get: 'storage',
  hearth_kv_set: 'storage',
  hearth_kv_delete: 'storage',
  hearth_moderate: 'moderation',
  hearth_log: 'log',
  hearth_config_get: 'config.read',
  hearth_abort: null,
} as const satisfies Record<string, Capability | null>;
export type HostFunctionName = keyof typeof HOST_FUNCTIONS;

export const HOST_MODULE = 'extism:host/user';
export const KERNEL_MODULE = 'extism:host/env';

export function isCapability(s: string): s is Capability {
  return (CAPABILITIES as readonly string[]).includes(s);
}
