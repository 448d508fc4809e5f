// `hearth service install|print`: the systemd unit (host/ops/service-unit.ts).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { OpsError } from '../ops/errors.js';
import { parseListenAddress } from '../ops/listen-address.js';
import { localAccountExists, renderUnit } from '../ops/service-unit.js';
import { out } from './output.js';

export const UNIT_PATH = '/etc/systemd/system/hearth.service';

interface ServiceOptions {
  user: string;
  data: string;
  metrics?: string;
  print?: boolean;
  output: string;
}

function unitFor(o: ServiceOptions): string {
  if (o.metrics !== undefined) parseListenAddress(o.metrics);
  if (o.user === 'root' || o.user === '0') throw new OpsError('SERVICE_USER_PRIVILEGED', 'the server must not run as root: give --user an unprivileged account (default: hearth)');
  return renderUnit({
    user: o.user,
    dataDir: resolve(o.data),
    node: process.execPath,
    // This very file's sibling: the unit runs the Hearth that wrote it.
    mainJs: fileURLToPath(new URL('./main.js', import.meta.url)),
    serverArgs: o.metrics !== undefined ? ['--metrics', o.metrics] : [],
  });
}

export function registerServiceCommand(program: Command): void {
  const service = program.command('service').description('run Hearth under systemd');
  const common = (c: Command) =>
    c
      .option('-u, --user <name>', 'unprivileged account the server runs as', 'hearth')
      .option('-d, --data <dir>', 'data directory', '/var/lib/hearth')
      .option('--metrics <host:port>', 'also serve /metrics, /healthz and /readyz there (e.g. 127.0.0.1:9464)');
  common(service.command('print').description('print the systemd unit')).action((o: ServiceOptions) => out(unitFor(o).trimEnd()));
  common(service.command('install').description(`write the systemd unit to ${UNIT_PATH} (or print it with --print)`))
    .option('--print', 'print the unit instead of writing it')
    .option('-o, --output <file>', 'where to write the unit', UNIT_PATH)
    .action((o: ServiceOptions) => {
      const unit = unitFor(o);
      if (o.print) return out(unit.trimEnd());
      if (!localAccountExists(o.user)) {
        throw new OpsError('SERVICE_USER_UNKNOWN', `no account "${o.user}"; create it first: useradd --system --home-dir ${resolve(o.data)} --shell /usr/sbin/nologin ${o.user}`);
      }
      try {
        writeFileSync(o.output, unit, { mode: 0o644 });
      } catch (err) {
        throw new OpsError('SERVICE_WRITE_FAILED', `cannot write ${o.output}: ${(err as Error).message} (run as root, or use --print)`);
      }
      out(`wrote ${o.output}`);
      out('next:');
      out(`  install -d -o ${o.user} -g ${o.user} -m 0700 ${resolve(o.data)}   # unless systemd creates it (StateDirectory)`);
      out('  systemctl daemon-reload && systemctl enable --now hearth');
      out('  journalctl -u hearth -f     # and the JSON logs in the data directory\'s logs/');
    });
}
