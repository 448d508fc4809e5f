// Client plugins (grant, enable), errors, and voice statistics.
import { h, type VElement } from '../vdom.js';
import { invalidate, send, ui } from '../state.js';
import type { ClientSnapshot } from '../types.js';
import { button, explain, ms, pct, when } from '../util.js';
import { type Widget } from './shared.js';
import { CAPABILITY_WORDS } from '../../../../plugins/capability-words.js';

const SLOT_TEXT: Record<string, string> = {
  aec: 'Echo canceller: reads your microphone and what your speaker plays, changes your microphone sound.',
  ns: 'Noise suppressor: reads and changes your microphone sound.',
  effect: 'Effect: reads and changes your microphone sound before it is sent.',
};

const capText = (c: string): string => CAPABILITY_WORDS[c] ?? c;

const PLUGIN_STATUS_TEXT: Record<string, string> = { running: 'Running', starting: 'Starting', 'not granted': 'Not granted', disabled: 'Disabled', fault: 'Fault' };

type ClientPlugin = ClientSnapshot['clientPlugins'][number];

/** The plugin's number and boolean settings; a change sends the whole config (plugin.config), which the core saves. */
function pluginSettings(p: ClientPlugin, hid: string): VElement {
  const current = (): Record<string, unknown> => Object.fromEntries(p.settings.map((x) => [x.key, x.value]));
  return h(
    'fieldset',
    { class: 'plugin-settings' },
    h('legend', null, `${p.name} settings`),
    p.settings.map((x) => {
      const id = `${hid}-set-${x.key}`;
      if (x.type === 'boolean') {
        return h('label', { key: x.key, class: 'check' }, h('input', { id, type: 'checkbox', checked: x.value === true, on: { change: (e) => send({ type: 'plugin.config', pluginId: p.id, config: { ...current(), [x.key]: (e.target as HTMLInputElement).checked } }) } }), ` ${x.description}`);
      }
      return h(
        'div',
        { key: x.key, class: 'field' },
        h('label', { for: id }, x.description),
        h('input', {
          id,
          type: 'number',
          value: String(x.value),
          ...(x.minimum !== undefined ? { min: x.minimum } : {}),
          ...(x.maximum !== undefined ? { max: x.maximum } : {}),
          step: x.type === 'integer' ? 1 : 'any',
          on: {
            change: (e) => {
              const v = Number((e.target as HTMLInputElement).value);
              if (Number.isFinite(v)) send({ type: 'plugin.config', pluginId: p.id, config: { ...current(), [x.key]: v } });
            },
          },
        }),
      );
    }),
  );
}

function clientPluginItem(p: ClientPlugin, idp: string): VElement {
  const hid = `${idp}-plugin-${p.id}`;
  const missing = p.requested.filter((c) => !p.granted.includes(c));
  const managed = p.source !== 'command line';
  const f = p.figures;
  const grantText = `Grant ${p.name}: ${p.requested.map(capText).join('; ') || 'nothing'}`;
  return h(
    'li',
    { key: p.id, class: 'plugin', 'aria-labelledby': hid, 'data-plugin': p.id, 'data-status': p.status },
    h(
      'div',
      { class: 'grow' },
      h('strong', { id: hid }, `${p.name} ${p.version}`),
      ' ',
      h('span', { class: 'badge' }, PLUGIN_STATUS_TEXT[p.status] ?? p.status),
      p.description ? h('p', { class: 'small' }, p.description) : null,
      h('p', { class: 'small' }, SLOT_TEXT[p.slot] ?? `Slot: ${p.slot}`),
      p.requested.length
        ? [
            h('p', { class: 'small', id: `${hid}-may` }, `${p.name} may:`),
            h('ul', { class: 'small', 'aria-labelledby': `${hid}-may` }, p.requested.map((c) => h('li', { key: c }, `${capText(c)} (${c}): `, p.granted.includes(c) ? 'granted' : 'not granted'))),
          ]
        : h('p', { class: 'small' }, `${p.name} asks for no capabilities.`),
      p.reason ? h('p', { class: 'small' }, `Not running: ${p.reason}`) : null,
      f ? h('p', { class: 'small muted figures', 'data-calls': String(f.calls), 'data-state': f.state }, `State ${f.state}: ${f.calls} calls, ${f.overruns} overruns, ${f.bypassed} bypassed, ${f.faults} faults, last ${f.lastUs} µs`) : null,
      // What the guest itself publishes (an echo canceller's ERLE, a suppressor's noise floor).
      f && Object.keys(f.published ?? {}).length
        ? h('dl', { class: 'kv dense small', 'aria-label': `${p.name} reports` }, Object.entries(f.published).map(([k, v]) => [h('dt', { key: `t-${k}` }, k), h('dd', { key: `d-${k}` }, String(Math.round(v * 10) / 10))]))
        : null,
      p.error ? h('p', { class: 'small error', role: 'alert' }, p.error) : null,
      managed ? null : h('p', { class: 'small muted' }, 'Granted on the command line (--effect).'),
      managed && p.settings.length ? pluginSettings(p, hid) : null,
    ),
    h(
      'div',
      { class: 'actions', style: 'flex: 0 1 22rem; justify-content: flex-end' },
      p.firstParty
        ? h('span', { class: 'small muted' }, 'Part of Hearth')
        : managed && p.sha256 !== null && p.requested.length
        ? missing.length
          ? button(grantText, () => send({ type: 'plugin.grant', pluginId: p.id, capabilities: p.requested.slice() }), { 'aria-label': grantText, style: 'white-space: normal; text-align: left' })
          : button('Revoke', () => send({ type: 'plugin.revoke', pluginId: p.id }), { 'aria-label': `Revoke what ${p.name} was granted` })
        : null,
      button(p.enabled ? 'Disable' : 'Enable', () => send({ type: 'plugin.enable', pluginId: p.id, on: !p.enabled }), { 'aria-label': `${p.enabled ? 'Disable' : 'Enable'} ${p.name}` }),
    ),
  );
}

export const pluginsW: Widget = (s, idp) => {
  const list = s.clientPlugins ?? [];
  if (list.length) return h('ul', { class: 'plain plugins' }, list.map((p) => clientPluginItem(p, idp)));
  if (!s.plugins.length) return h('p', { class: 'muted' }, 'No client plugins are installed.');
  return h(
    'ul',
    { class: 'plain plugins' },
    s.plugins.map((p) => {
      const on = p.state !== 'disabled';
      return h(
        'li',
        { key: p.pluginId, class: 'plugin' },
        h('div', { class: 'grow' }, h('strong', null, p.pluginId), ' ', h('span', { class: 'badge' }, p.state), h('p', { class: 'small' }, SLOT_TEXT[p.slot] ?? `Slot: ${p.slot}`), h('p', { class: 'small muted' }, `${p.calls} calls, ${p.overruns} overruns, ${p.bypassed} bypassed, ${p.faults} faults, last ${p.lastUs} µs${p.message ? ` — ${p.message}` : ''}`)),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: on, on: { change: (e) => send({ type: 'plugin.enable', pluginId: p.pluginId, on: (e.target as HTMLInputElement).checked }) } }), ` Enabled`),
      );
    }),
  );
};

// ---------------------------------------------------------------------------
// errors

export const errorsW: Widget = (s) => {
  const list = s.errors.filter((e) => e.at > ui.dismissedErrorsAt).slice().reverse();
  return h(
    'div',
    { class: 'errors' },
    h('div', { role: 'alert', class: 'sr-only' }, list[0] ? explain(list[0]) : ''),
    list.length
      ? [
          h('ul', { class: 'plain' }, list.slice(0, 8).map((e) => h('li', { key: `${e.at}-${e.code}`, class: 'error' }, h('strong', null, explain(e)), ' ', h('span', { class: 'muted small' }, `${e.code} · ${when(e.at)}`)))),
          button('Clear', () => ((ui.dismissedErrorsAt = list[0]!.at), invalidate()), { 'aria-label': 'Clear the errors' }),
        ]
      : h('p', { class: 'muted' }, 'No errors.'),
  );
};

// ---------------------------------------------------------------------------
// stats

export const statsW: Widget = (s) => {
  const a = s.audio;
  return h(
    'div',
    { class: 'stats' },
    h('p', { class: 'small' }, `Sent ${s.voice.sent}, received ${s.voice.received} packets · ping ${ms(s.voice.rttMs)} · loss ${pct(s.voice.lossPercent)} · frames ${a.clock.ticks}, late ${a.clock.lateFrames}, underruns ${a.clock.underruns} · CPU capture ${a.cpu.captureUsP50}/${a.cpu.captureUsP99} µs, playback ${a.cpu.playbackUsP50}/${a.cpu.playbackUsP99} µs`),
    s.voice.speakers.length
      ? h(
          'table',
          { class: 'stats-table' },
          h('caption', null, 'Jitter buffer per speaker'),
          h('thead', null, h('tr', null, ['Speaker', 'Depth', 'Target', 'Jitter', 'Delay', 'Received', 'Late', 'Lost', 'FEC', 'Concealed'].map((x) => h('th', { key: x, scope: 'col' }, x)))),
          h(
            'tbody',
            null,
            // By position, not by voice token: when who is speaking changes (every frame at
            // 200 snapshots/s), the rows' text changes instead of rows being removed and created.
            s.voice.speakers.map((sp) =>
              h('tr', null, h('th', { scope: 'row' }, sp.username ?? `#${sp.token}`), h('td', null, ms(sp.depthMs)), h('td', null, ms(sp.targetMs)), h('td', null, ms(sp.jitterMs)), h('td', null, ms(sp.playoutDelayMs)), h('td', null, sp.received), h('td', null, sp.late), h('td', null, sp.lost), h('td', null, sp.fecRecovered), h('td', null, sp.concealed)),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No speakers yet.'),
  );
};
