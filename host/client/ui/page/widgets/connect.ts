// The connect form and saved servers, the certificate choice, and the connection state.
import { h, type VElement } from '../vdom.js';
import { invalidate, send, ui } from '../state.js';
import { button, explain, field, ms, pct } from '../util.js';
import { input, type Widget } from './shared.js';

function fillConnectForm(idp: string, sv: { id: string; label: string; host: string; port: number; username: string }): void {
  ui.formServerId = sv.id;
  invalidate();
  const form = document.getElementById(`${idp}-form`) as HTMLFormElement | null;
  if (!form) return;
  for (const [k, v] of Object.entries({ label: sv.label, host: sv.host, port: String(sv.port), username: sv.username })) {
    const el = input(form, k);
    if (el) el.value = v;
  }
  const pw = input(form, 'password');
  pw?.focus();
}

export const connectW: Widget = (s, idp) => {
  const st = s.connection.status;
  const live = st === 'connected' || st === 'connecting' || st === 'reconnecting';
  const saved = s.servers?.list ?? [];
  const last = s.servers?.lastServerId ?? null;
  const onSubmit = (ev: Event): void => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const v = (n: string): string => input(form, n)?.value.trim() ?? '';
    const host = v('host');
    const port = Number(v('port') || '64738');
    const username = v('username');
    const password = input(form, 'password')?.value ?? '';
    if (!host || !username || !password || !Number.isInteger(port) || port < 1 || port > 65535) {
      const bad = !host ? 'host' : !Number.isInteger(port) || port < 1 || port > 65535 ? 'port' : !username ? 'username' : 'password';
      input(form, bad)?.focus();
      input(form, bad)?.setAttribute('aria-invalid', 'true');
      return;
    }
    for (const n of ['host', 'port', 'username', 'password']) input(form, n)?.removeAttribute('aria-invalid');
    const token = v('token');
    const register = ui.registerMode === 'invite' ? { invite: token } : ui.registerMode === 'bootstrap' ? { bootstrapToken: token } : undefined;
    if (input(form, 'save')?.checked) {
      const remember = !!input(form, 'remember')?.checked;
      const sameEntry = saved.find((x) => x.id === ui.formServerId && x.host === host && x.port === port && x.username === username);
      send({ type: 'servers.save', ...(sameEntry ? { id: sameEntry.id } : {}), label: v('label') || host, host, port, username, ...(remember ? { password } : {}), rememberPassword: remember });
    }
    send({ type: 'connect', server: { host, port }, username, password, ...(register ? { register } : {}) });
  };
  const mode = (m: typeof ui.registerMode, label: string): VElement =>
    h(
      'label',
      { class: 'radio' },
      h('input', { type: 'radio', name: `${idp}-account`, value: m, checked: ui.registerMode === m, on: { change: () => ((ui.registerMode = m), invalidate()) } }),
      ' ',
      label,
    );
  return [
    live
      ? h('p', { class: 'connected-note' }, `${st === 'connected' ? 'Connected to' : st === 'connecting' ? 'Connecting to' : 'Reconnecting to'} ${s.connection.server?.name ?? s.connection.server?.host ?? ''} as ${s.connection.username ?? ''}. `, button('Disconnect', () => send({ type: 'disconnect' })))
      : null,
    saved.length
      ? h(
          'section',
          { 'aria-labelledby': `${idp}-saved-h`, class: 'saved' },
          h('h3', { id: `${idp}-saved-h` }, 'Saved servers'),
          h(
            'ul',
            { class: 'plain' },
            saved.slice().sort((a, b) => (a.id === last ? -1 : b.id === last ? 1 : a.label.localeCompare(b.label))).map((sv) =>
              h(
                'li',
                { key: sv.id, class: 'saved-server' },
                h(
                  'span',
                  { class: 'grow' },
                  h('strong', null, sv.label || sv.host),
                  ' ',
                  h('span', { class: 'muted' }, `${sv.username}@${sv.host}:${sv.port}${sv.id === last ? ' · last used' : ''}`),
                  h('br'),
                  h('span', { class: 'small muted' }, sv.pinnedFingerprint ? ['Certificate pinned: ', h('code', { title: sv.pinnedFingerprint }, `${sv.pinnedFingerprint.slice(0, 23)}…`)] : 'No certificate pinned yet: the first connect shows it for you to check.'),
                ),
                sv.hasPassword
                  ? button('Connect', () => send({ type: 'servers.connect', serverId: sv.id }), { 'aria-label': `Connect to ${sv.label || sv.host}` })
                  : button('Use', () => fillConnectForm(idp, sv), { 'aria-label': `Fill the form with ${sv.label || sv.host}` }),
                sv.pinnedFingerprint
                  ? button('Forget certificate', () => send({ type: 'trust.forget', hostKey: `${sv.host}:${sv.port}` }), { 'aria-label': `Forget the pinned certificate of ${sv.label || sv.host}` })
                  : null,
                button('Remove', () => send({ type: 'servers.remove', id: sv.id }), { 'aria-label': `Remove saved server ${sv.label || sv.host}` }),
              ),
            ),
          ),
        )
      : null,
    h(
      'form',
      // Keyed: the saved-servers list appearing above it must not make the renderer rebuild the form (and lose what was typed).
      { key: 'connect-form', id: `${idp}-form`, class: 'connect-form', 'aria-label': 'Connect to a server', novalidate: true, on: { submit: onSubmit } },
      h(
        'div',
        { class: 'row-fields' },
        field(`${idp}-host`, 'Server address', { autocomplete: 'off', required: true, placeholder: 'voice.example.org', spellcheck: 'false' }),
        field(`${idp}-port`, 'Port', { type: 'number', min: 1, max: 65535, defaultValue: '64738', class: 'port', required: true }),
      ),
      h(
        'div',
        { class: 'row-fields' },
        field(`${idp}-username`, 'Username', { autocomplete: 'username', required: true, spellcheck: 'false' }),
        field(`${idp}-password`, 'Password', { type: 'password', autocomplete: 'current-password', required: true }),
      ),
      h(
        'fieldset',
        { class: 'account' },
        h('legend', null, 'Account'),
        mode('login', 'I have an account'),
        mode('invite', 'Register with an invite'),
        mode('bootstrap', 'Register the first admin (bootstrap token)'),
        ui.registerMode !== 'login' ? field(`${idp}-token`, ui.registerMode === 'invite' ? 'Invite code' : 'Bootstrap token', { autocomplete: 'off', spellcheck: 'false' }, ui.registerMode === 'bootstrap' ? 'The server printed it at its first start.' : undefined) : null,
      ),
      h(
        'div',
        { class: 'row-fields checks' },
        h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'save', checked: true }), ' Save this server'),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'remember' }), ' Remember the password'),
        field(`${idp}-label`, 'Name (optional)', { autocomplete: 'off' }),
      ),
      h('button', { type: 'submit', class: 'primary' }, ui.registerMode === 'login' ? 'Connect' : 'Register and connect'),
    ),
  ];
};

// ---------------------------------------------------------------------------
// certificate

export const certificateW: Widget = (s, idp) => {
  const c = s.connection.certificate;
  if (!c) return h('p', { class: 'muted' }, s.connection.fingerprint ? `Server certificate: ${s.connection.fingerprint}` : 'No certificate decision is needed.');
  const accept = (): void => send({ type: 'trust.accept', hostKey: c.hostKey, fingerprint: c.offered });
  const cancel = (): void => {
    ui.dismissedCert = `${c.hostKey}|${c.offered}`;
    send({ type: 'disconnect' });
  };
  if (c.changed) {
    return h(
      'div',
      { class: 'cert changed', role: 'alert', 'aria-labelledby': `${idp}-cert-h` },
      h('h3', { id: `${idp}-cert-h` }, '⚠ Warning: the server’s certificate has CHANGED — connection refused'),
      h('p', null, `The server at ${c.hostKey} presented a different certificate from the one you trusted before. This can mean someone is intercepting the connection (a man-in-the-middle attack). It can also mean the server’s administrator replaced the certificate. Ask the administrator before you accept.`),
      h('dl', { class: 'fp' }, h('dt', null, 'Trusted (pinned)'), h('dd', null, h('code', null, c.pinned ?? 'none')), h('dt', null, 'Offered now'), h('dd', null, h('code', null, c.offered))),
      h('div', { class: 'actions' }, button('Do not connect', cancel, { class: 'primary' }), button('I checked it: trust the new certificate and connect', accept, { class: 'danger' })),
    );
  }
  return h(
    'div',
    { class: 'cert first', role: 'alertdialog', 'aria-labelledby': `${idp}-cert-h`, 'aria-describedby': `${idp}-cert-d` },
    h('h3', { id: `${idp}-cert-h` }, 'First connection to this server'),
    h('p', { id: `${idp}-cert-d` }, `Check that this fingerprint is the one the server’s administrator gave you for ${c.hostKey}. Hearth will remember it and warn you if it ever changes.`),
    h('p', null, h('code', { class: 'fp' }, c.offered)),
    h('div', { class: 'actions' }, button('Accept and connect', accept, { class: 'primary' }), button('Cancel', cancel)),
  );
};

// ---------------------------------------------------------------------------
// connection

const STATUS_TEXT: Record<string, string> = { disconnected: 'Not connected', connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting', failed: 'Connection failed' };

export const connectionW: Widget = (s, _idp, dense) => {
  const c = s.connection;
  const retry = c.status === 'reconnecting' && c.nextRetryAt ? Math.max(0, Math.ceil((c.nextRetryAt - Date.now()) / 1000)) : null;
  const statusText = `${STATUS_TEXT[c.status] ?? c.status}${retry !== null ? ` — next try in ${retry} s (attempt ${c.attempt})` : ''}`;
  return h(
    'div',
    { class: `connection status-${c.status}` },
    h('p', { role: 'status', class: 'status-line' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), ' ', statusText, c.error && c.status === 'failed' ? ` — ${explain(c.error)}` : ''),
    c.server
      ? h(
          'dl',
          { class: dense ? 'kv dense' : 'kv' },
          h('dt', null, 'Server'),
          h('dd', null, `${c.server.name ?? c.server.host} (${c.server.host}:${c.server.port})`),
          h('dt', null, 'User'),
          h('dd', null, `${c.username ?? '—'}${s.self ? ` (${s.self.role})` : ''}`),
          c.status === 'connected'
            ? [
                h('dt', null, 'Ping'),
                h('dd', null, ms(s.voice.rttMs)),
                h('dt', null, 'Packet loss'),
                h('dd', null, `${pct(s.voice.lossPercent)} in, ${pct(s.voice.listenerLossPercent)} out`),
                h('dt', null, 'Voice'),
                h('dd', null, s.voice.mode === 'udp' ? 'UDP' : s.voice.mode === 'tcp' ? 'TLS fallback' : 'off'),
              ]
            : null,
        )
      : null,
    c.status === 'connected' || c.status === 'connecting' || c.status === 'reconnecting' ? button(c.status === 'reconnecting' ? 'Stop reconnecting' : 'Disconnect', () => send({ type: 'disconnect' })) : null,
  );
};
