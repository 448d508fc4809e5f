// Voice (mute, deafen, push-to-talk or voice activation with a live level) and the sound cards.
import { h, type VElement } from '../vdom.js';
import { invalidate, send, store, ui } from '../state.js';
import type { ClientSnapshot } from '../types.js';
import { button, db, describeDevice, toggle } from '../util.js';
import { type Widget } from './shared.js';

export function keyName(code: string): string {
  return code.replace(/^Key/, '').replace(/^Digit/, '').replace(/Left$|Right$/, (m) => ` (${m.toLowerCase()})`);
}

export function isPttKey(e: KeyboardEvent): boolean {
  return e.code === (store.snapshot?.pttKey ?? ui.pttKey);
}

export const voiceW: Widget = (s, idp, dense) => {
  const a = s.audio;
  const setMode = (mode: 'vad' | 'ptt' | 'continuous') => send({ type: 'voice.mode', mode, thresholdDb: a.thresholdDb });
  const lvl = Math.max(-90, Math.min(0, a.inputLevelDb));
  const radio = (m: 'vad' | 'ptt' | 'continuous', label: string): VElement =>
    h('label', { class: 'radio' }, h('input', { type: 'radio', name: `${idp}-mode`, value: m, checked: a.mode === m, on: { change: () => setMode(m) } }), ' ', label);
  return h(
    'div',
    { class: 'voice' },
    h(
      'div',
      { class: 'actions' },
      toggle(a.selfMute ? 'Unmute' : 'Mute', a.selfMute, () => send({ type: 'self.mute', on: !a.selfMute }), { 'aria-label': 'Mute microphone', class: a.selfMute ? 'toggle on warn' : 'toggle' }),
      toggle(a.selfDeaf ? 'Undeafen' : 'Deafen', a.selfDeaf, () => send({ type: 'self.deaf', on: !a.selfDeaf }), { 'aria-label': 'Deafen (hear nothing)', class: a.selfDeaf ? 'toggle on warn' : 'toggle' }),
      h('span', { class: a.transmitting ? 'tx on' : 'tx', role: 'status' }, a.transmitting ? '● Sending voice' : '○ Not sending'),
    ),
    h('fieldset', { class: 'modes' }, h('legend', null, 'Transmit'), radio('vad', 'When I speak (voice activation)'), radio('ptt', 'Push to talk'), radio('continuous', 'Always (continuous)')),
    h(
      'div',
      { class: 'meter-row' },
      h('label', { for: `${idp}-level` }, 'Input level'),
      h('meter', { id: `${idp}-level`, min: -90, max: 0, low: a.thresholdDb, high: -6, optimum: -20, value: lvl.toFixed(1), 'aria-valuetext': db(a.inputLevelDb) }),
      h('span', { class: 'num', 'aria-hidden': 'true' }, db(a.inputLevelDb)),
    ),
    a.mode === 'vad'
      ? h(
          'div',
          { class: 'meter-row' },
          h('label', { for: `${idp}-thr` }, 'Speak threshold'),
          h('input', {
            id: `${idp}-thr`,
            type: 'range',
            min: -90,
            max: 0,
            step: 1,
            value: String(Math.round(a.thresholdDb)),
            'aria-valuetext': `${Math.round(a.thresholdDb)} dB`,
            on: { input: (e) => send({ type: 'voice.mode', mode: 'vad', thresholdDb: Number((e.target as HTMLInputElement).value) }) },
          }),
          h('span', { class: 'num', 'aria-hidden': 'true' }, `${Math.round(a.thresholdDb)} dB`),
        )
      : null,
    a.mode === 'ptt'
      ? h(
          'div',
          { class: 'ptt' },
          h(
            'button',
            {
              type: 'button',
              class: a.pttDown ? 'ptt-btn on' : 'ptt-btn',
              'aria-pressed': a.pttDown ? 'true' : 'false',
              on: {
                pointerdown: () => send({ type: 'ptt', down: true }),
                pointerup: () => send({ type: 'ptt', down: false }),
                pointerleave: () => a.pttDown && send({ type: 'ptt', down: false }),
              },
            },
            'Hold to talk',
          ),
          h(
            'span',
            { class: 'muted' },
            ui.capturingKey ? 'Press the key to use (Escape cancels)…' : `Key: ${keyName(s.pttKey ?? ui.pttKey)} (works while this window has focus) `,
          ),
          button(ui.capturingKey ? 'Cancel' : 'Change key', () => ((ui.capturingKey = !ui.capturingKey), invalidate()), { 'aria-label': ui.capturingKey ? 'Cancel choosing a push-to-talk key' : `Change push-to-talk key, now ${keyName(s.pttKey ?? ui.pttKey)}` }),
        )
      : null,
    dense ? null : h('p', { class: 'muted small' }, a.mode === 'ptt' ? 'Hold the key or the button while you talk.' : a.mode === 'vad' ? 'Your voice is sent while the level is above the threshold.' : 'Your microphone is always sent (unless muted).'),
  );
};

// ---------------------------------------------------------------------------
// devices

export const devicesW: Widget = (s, idp) => {
  if (!ui.devicesListed) {
    ui.devicesListed = true;
    queueMicrotask(() => send({ type: 'devices.list' }));
  }
  const a = s.audio;
  const av = a.available;
  const pick = (which: 'capture' | 'playback', v: string): void => {
    const spec = v === '__none' ? { kind: 'none' as const } : { kind: 'portaudio' as const, name: v === '__default' ? null : v };
    send({ type: 'devices.select', ...(which === 'capture' ? { capture: spec } : { playback: spec }) });
  };
  const current = (d: ClientSnapshot['audio']['input']): string => (!d || d.kind === 'none' ? '__none' : d.kind === 'portaudio' ? (av && (which(d.name, av.inputs) || which(d.name, av.outputs)) ? d.name : '__default') : `__other`);
  const which = (n: string, list: { name: string }[]): boolean => list.some((x) => x.name === n);
  const sel = (id: string, label: string, list: { name: string; default: boolean }[], dev: ClientSnapshot['audio']['input'], kind: 'capture' | 'playback'): VElement => {
    const cur = current(dev);
    return h(
      'div',
      { class: 'field' },
      h('label', { for: id }, label),
      h(
        'select',
        { id, value: cur, on: { change: (e) => pick(kind, (e.target as HTMLSelectElement).value) } },
        h('option', { key: '__default', value: '__default' }, 'System default'),
        list.map((d) => h('option', { key: d.name, value: d.name }, `${d.name}${d.default ? ' (default)' : ''}`)),
        cur === '__other' ? h('option', { key: '__other', value: '__other' }, `${dev?.kind}: ${dev?.name}`) : null,
        h('option', { key: '__none', value: '__none' }, 'None'),
      ),
      dev?.error
        ? h('p', { class: 'err', role: 'alert' }, `${dev.error.message} `, button('Reopen', () => send({ type: 'devices.reopen' }), { 'aria-label': `Reopen ${label.toLowerCase()}` }))
        : h('small', { class: 'hint' }, `Now: ${describeDevice(dev)}`),
    );
  };
  return h(
    'div',
    { class: 'devices' },
    sel(`${idp}-in`, 'Microphone', av?.inputs ?? [], a.input, 'capture'),
    sel(`${idp}-out`, 'Speaker or headphones', av?.outputs ?? [], a.output, 'playback'),
    av?.error ? h('p', { class: 'notice' }, `Sound cards cannot be listed: ${av.error}`) : null,
    h(
      'div',
      { class: 'meter-row' },
      h('label', { for: `${idp}-vol` }, 'Output volume'),
      h('input', { id: `${idp}-vol`, type: 'range', min: 0, max: 200, step: 5, value: String(Math.round(s.audio.outputVolume * 100)), 'aria-valuetext': `${Math.round(s.audio.outputVolume * 100)} %`, on: { input: (e) => send({ type: 'output.volume', volume: Number((e.target as HTMLInputElement).value) / 100 }) } }),
      h('span', { class: 'num', 'aria-hidden': 'true' }, `${Math.round(s.audio.outputVolume * 100)} %`),
    ),
    h(
      'div',
      { class: 'actions' },
      toggle(a.loopback ? 'Stop the loopback test' : 'Loopback test: hear my microphone', a.loopback, () => send({ type: 'loopback', on: !a.loopback })),
      button('Refresh the device list', () => send({ type: 'devices.list' })),
    ),
  );
};
