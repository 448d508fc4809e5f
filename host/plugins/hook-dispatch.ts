// Hooks that go through every plugin that has them, in load order: chat
// filtering (a rewrite passes on, a block ends it, a late or faulty plugin
// does not hold the message up), events, command routing, and the server-side
// audio chain. The runtime (runtime.ts) calls one plugin at a time with its
// time policy; this module decides how the plugins' answers combine.
import { ChatOutput, CommandOutput, EventOutput, type ChatDecision, type ChatEvent, type CommandEvent } from './hooks.js';
import type { HookName } from './capabilities.js';
import type { PluginHost } from './runtime.js';

export async function chat(host: PluginHost, ev: ChatEvent): Promise<ChatDecision> {
  let text = ev.text;
  const by: string[] = [];
  for (const m of host.pluginsWith('on_chat')) {
    const out = await host.callJson(m.id, 'on_chat', { ...ev, text }, ChatOutput);
    if (out.status !== 'ok') continue;
    if (out.value.action === 'block') return { action: 'block', by: m.id, reason: out.value.reason ?? 'blocked by a plugin' };
    if (out.value.action === 'rewrite') {
      text = out.value.text;
      by.push(m.id);
    }
  }
  return by.length ? { action: 'rewrite', text, by } : { action: 'allow' };
}

/** An event for every plugin that listens to it, all at once (each queues per plugin). */
export async function broadcast(host: PluginHost, hook: Extract<HookName, 'on_join' | 'on_leave' | 'on_timer'>, ev: unknown): Promise<void> {
  await Promise.all(host.pluginsWith(hook).map((m) => host.callJson(m.id, hook, ev, EventOutput, true)));
}

/** Routes a chat command to the plugin that declared it; null when none did or it gave no reply. */
export async function command(host: PluginHost, ev: CommandEvent): Promise<{ pluginId: string; reply: string } | null> {
  const m = host.pluginsWith('on_command').find((q) => q.commands.includes(ev.command));
  if (!m) return null;
  const out = await host.callJson(m.id, 'on_command', ev, CommandOutput, true);
  if (out.status !== 'ok' || out.value.reply === undefined) return null;
  return { pluginId: m.id, reply: out.value.reply };
}

/** The frame through every audio plugin in load order; a plugin that does not answer in time is bypassed. */
export async function audio(host: PluginHost, frame: Float32Array): Promise<Float32Array> {
  let current = frame;
  for (const id of host.audioPluginIds()) {
    const out = await host.callAudio(id, current);
    if (out.status === 'ok') current = out.value;
  }
  return current;
}

/** audio() for a worker thread (blocks for at most the sum of the plugins' callMs). */
export function audioSync(host: PluginHost, frame: Float32Array): Float32Array {
  let current = frame;
  for (const id of host.audioPluginIds()) {
    const out = host.callAudioSync(id, current);
    if (out.status === 'ok') current = out.value;
  }
  return current;
}
