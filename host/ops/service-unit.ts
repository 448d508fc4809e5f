// The systemd unit of a Hearth server (`hearth service install|print`).
// The service runs as an unprivileged account with everything the server does
// not need taken away: it writes only its data directory, sees no home
// directories, no /tmp of others, no devices, no kernel knobs, and cannot gain
// privileges. Restarts on failure are rate-limited so a server that crashes at
// start does not spin. SIGTERM drains (clients told SHUTDOWN, database closed,
// exit 0); `systemctl reload` sends SIGHUP (config and certificate re-read).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface UnitOptions {
  /** Account the server runs as. */
  user: string;
  /** Absolute data directory. */
  dataDir: string;
  /** Absolute path of node and of dist/host/cli/main.js. */
  node: string;
  mainJs: string;
  /** Extra `hearth server` arguments (e.g. --metrics 127.0.0.1:9464). */
  serverArgs: string[];
}

/** systemd's quoting for ExecStart: a word with anything special goes in double quotes. */
function quote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%')}"`;
}

/** Home-like trees ProtectHome=yes hides: a Hearth installed there needs read-only instead. */
const HOME_TREES = ['/home/', '/root/', '/run/user/'];

export function renderUnit(o: UnitOptions): string {
  const dataDir = resolve(o.dataDir);
  const underHome = [o.node, o.mainJs, dataDir].some((p) => HOME_TREES.some((h) => p.startsWith(h)));
  // Under /var/lib, systemd creates the directory and hands it to the account.
  const stateDir = /^\/var\/lib\/([^/]+)$/.exec(dataDir)?.[1];
  const exec = [o.node, o.mainJs, 'server', '--data', dataDir, ...o.serverArgs].map(quote).join(' ');
  const lines = [
    '# Hearth voice chat server. Written by `hearth service install`; see docs/OPERATIONS.md',
    '# ("Running as a service"). Local changes: `systemctl edit hearth` (a drop-in survives reinstalls).',
    '[Unit]',
    'Description=Hearth voice chat server',
    // main.js is <package>/dist/host/cli/main.js; the docs ship next to dist/.
    `Documentation=file://${join(dirname(dirname(dirname(dirname(o.mainJs)))), 'docs', 'OPERATIONS.md')}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '# At most 5 starts in 5 minutes: a server failing at start stops being restarted (systemctl reset-failed hearth).',
    'StartLimitIntervalSec=300',
    'StartLimitBurst=5',
    '',
    '[Service]',
    'Type=exec',
    `User=${o.user}`,
    `Group=${o.user}`,
    `ExecStart=${exec}`,
    '# A small young generation (about 10 MB less at idle, 30 MB less with 200 clients) and one',
    '# V8 background thread (5 MB less at idle), no measured CPU cost (docs/OPERATIONS.md, "Memory").',
    'Environment="NODE_OPTIONS=--max-semi-space-size=1 --v8-pool-size=1"',
    '# SIGHUP: re-read the config file and the TLS certificate; nobody is disconnected.',
    'ExecReload=/bin/kill -HUP $MAINPID',
    '# SIGTERM: clients get disconnect SHUTDOWN, the database is closed, exit 0.',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    'Restart=on-failure',
    'RestartSec=5',
    `WorkingDirectory=${quote(dataDir)}`,
    ...(stateDir ? [`StateDirectory=${stateDir}`, 'StateDirectoryMode=0700'] : []),
    'UMask=0077',
    'LimitNOFILE=65536',
    '',
    '# Hardening: the server needs its data directory, its sockets and nothing else.',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    `ReadWritePaths=${quote(dataDir)}`,
    'PrivateTmp=yes',
    ...(underHome ? ['# Hearth or its data lives under a home directory: readable, never writable.', 'ProtectHome=read-only'] : ['ProtectHome=yes']),
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'RemoveIPC=yes',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallErrorNumber=EPERM',
    '# No capabilities: the default ports (64738, 9464) are above 1024. For a port below 1024 add',
    '# AmbientCapabilities=CAP_NET_BIND_SERVICE and CapabilityBoundingSet=CAP_NET_BIND_SERVICE.',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    '# Not MemoryDenyWriteExecute: V8 compiles JavaScript and WebAssembly into executable memory.',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}

/** Does this account exist on the machine? (/etc/passwd; accounts from LDAP and the like are not seen.) */
export function localAccountExists(user: string, passwd = '/etc/passwd'): boolean {
  try {
    return readFileSync(passwd, 'utf8')
      .split('\n')
      .some((l) => l.split(':')[0] === user);
  } catch {
    return false;
  }
}
