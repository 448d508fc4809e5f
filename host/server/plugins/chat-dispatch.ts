// Chat filters and chat commands, as the server runs them (PluginManager.chat
// and .command delegate here).
//
// Fail-open vs fail-closed. By default a filter that does not answer within
// its callMs is bypassed ("late"), and so are the messages queued behind a
// late call ("busy"): chat keeps flowing while a filter is slow, but those
// messages are delivered unfiltered. Under load that was every message (issue
// 11: 360 of 360 long messages passed a 500-word filter unfiltered), so:
//   - fail-open (default): every message that passes a filter unfiltered is
//     logged (warn, with the plugin and why), and busy calls count as
//     overruns (call-path.ts), so a filter that cannot keep up is disabled
//     and reported instead of silently waved through;
//   - fail-closed (config plugins.failClosed: true, or a list of plugin ids):
//     the message is held until the filter answers or its killMs passes; a
//     filter that does not answer, faults, or is disabled makes the server
//     refuse the message with FILTER_UNAVAILABLE (docs/PROTOCOL.md). The
//     sender learns it was not delivered; nothing unfiltered is posted.
// Commands: the text of a "/command args" whose owner was late, busy or
// faulted is never posted as chat (it would publish the arguments, e.g. a
// password given to a bot): the sender gets COMMAND_UNAVAILABLE.
import { createHash } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import { ProtocolError } from '../../protocol/errors.js';
import { ChatOutput, CommandOutput, type ChatDecision, type ChatEvent, type CommandEvent } from '../../plugins/hooks.js';
import type { PluginHost } from '../../plugins/runtime.js';

export type FailClosed = boolean | readonly string[];

export interface ChatDispatchDeps {
  host: PluginHost;
  log: Logger;
  failClosed: FailClosed;
  /** Ids of the installed plugins that are loaded in the runtime (running or disabled after a fault), in load order, with their commands. */
  loaded(): Iterable<{ id: string; commands: readonly string[] }>;
}

export function isFailClosed(policy: FailClosed, pluginId: string): boolean {
  return policy === true || (Array.isArray(policy) && policy.includes(pluginId));
}

/** A short fingerprint of a text for the log (never the text itself: logs are kept, chat history is pruned). */
function textId(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * on_chat through every running filter in load order: a rewrite passes on, a
 * block ends it. Throws ProtocolError('FILTER_UNAVAILABLE') when a
 * fail-closed filter cannot give an answer.
 */
export async function dispatchChat(d: ChatDispatchDeps, ev: ChatEvent): Promise<ChatDecision> {
  const running = d.host.pluginsWith('on_chat');
  if (d.failClosed !== false) {
    // A fail-closed filter that faulted (or was disabled by its overruns) must
    // not turn into "no filter": refuse until the admin re-enables it.
    const runningIds = new Set(running.map((m) => m.id));
    for (const p of d.host.list()) {
      if (runningIds.has(p.id) || !p.hooks.includes('on_chat') || !isFailClosed(d.failClosed, p.id)) continue;
      d.log.warn({ plugin: p.id, state: p.state, userId: ev.user.id, channelId: ev.channelId }, `chat message refused: fail-closed filter ${p.id} is ${p.state}`);
      throw new ProtocolError('FILTER_UNAVAILABLE', `message not delivered: the chat filter ${p.id} is ${p.state}`, { plugin: p.id, status: p.state });
    }
  }
  let text = ev.text;
  const by: string[] = [];
  const unfiltered: { plugin: string; status: string }[] = [];
  for (const m of running) {
    const closed = isFailClosed(d.failClosed, m.id);
    // Fail-closed: wait up to killMs (the runtime kills the call there) instead of callMs.
    const out = await d.host.callJson(m.id, 'on_chat', { ...ev, text }, ChatOutput, false, closed ? m.limits.killMs : undefined);
    if (out.status !== 'ok') {
      if (closed) {
        d.log.warn({ plugin: m.id, status: out.status, userId: ev.user.id, channelId: ev.channelId, chars: text.length }, `chat message refused: fail-closed filter ${m.id} gave no answer (${out.status})`);
        throw new ProtocolError('FILTER_UNAVAILABLE', `message not delivered: the chat filter ${m.id} did not answer (${out.status})`, { plugin: m.id, status: out.status });
      }
      unfiltered.push({ plugin: m.id, status: out.status });
      continue;
    }
    if (out.value.action === 'block') return { action: 'block', by: m.id, reason: out.value.reason ?? 'blocked by a plugin' };
    if (out.value.action === 'rewrite') {
      text = out.value.text;
      by.push(m.id);
    }
  }
  if (unfiltered.length) {
    d.log.warn(
      { unfiltered, userId: ev.user.id, user: ev.user.name, channelId: ev.channelId, chars: text.length, textId: textId(text) },
      `chat message passed ${unfiltered.map((u) => `${u.plugin} (${u.status})`).join(', ')} unfiltered (fail-open)`,
    );
  }
  return by.length ? { action: 'rewrite', text, by } : { action: 'allow' };
}

/**
 * Routes "/name args" to the loaded plugin that declared the command (the
 * first loaded wins). null: no plugin owns it (the text is ordinary chat), or
 * the owner answered without a reply. Throws COMMAND_UNAVAILABLE when the
 * owner is not running or did not answer: the text is then not posted.
 */
export async function dispatchCommand(d: ChatDispatchDeps, ev: CommandEvent): Promise<{ pluginId: string; reply: string } | null> {
  let owner: string | null = null;
  for (const p of d.loaded()) {
    if (p.commands.includes(ev.command)) {
      owner = p.id;
      break;
    }
  }
  if (owner === null) return null;
  const out = await d.host.callJson(owner, 'on_command', ev, CommandOutput, true);
  if (out.status !== 'ok') {
    d.log.warn({ plugin: owner, command: ev.command, status: out.status, userId: ev.user.id }, `command /${ev.command} not run: plugin ${owner} gave no answer (${out.status}); its text was not posted`);
    throw new ProtocolError('COMMAND_UNAVAILABLE', `/${ev.command} was not run: its plugin ${owner} did not answer (${out.status})`, { plugin: owner, status: out.status });
  }
  if (out.value.reply === undefined) return null;
  return { pluginId: owner, reply: out.value.reply };
}
