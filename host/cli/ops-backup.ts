// `hearth backup` and `hearth restore` (host/ops/backup.ts). Both log to the
// data directory's logs/ like the other admin commands, and print for people.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createLogger } from '../log/logger.js';
import { HEARTH_VERSION } from '../server/server.js';
import { createBackup, restoreBackup } from '../ops/backup.js';
import { escapeField, out } from './output.js';

async function withLog<T>(dataDir: string, fn: (log: Awaited<ReturnType<typeof createLogger>>['logger']) => Promise<T> | T): Promise<T> {
  const hl = await createLogger({ dir: join(resolve(dataDir), 'logs'), pretty: false });
  try {
    return await fn(hl.logger.child({ component: 'admin-cli' }));
  } finally {
    await hl.close();
  }
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup <out>')
    .description('consistent online copy of the database, TLS identity, config and plugins into <out> (a new directory, or a .tar.gz); safe while the server runs')
    .option('-d, --data <dir>', 'data directory', './hearth-data')
    .option('-c, --config <file>', 'config file to include (default: <data>/config.json if present)')
    .action(async (dest: string, o: { data: string; config?: string }) => {
      await withLog(o.data, async (log) => {
        const r = await createBackup({ dataDir: o.data, out: dest, hearthVersion: HEARTH_VERSION, ...(o.config !== undefined ? { configFile: o.config } : {}) });
        const bytes = r.manifest.files.reduce((n, f) => n + f.bytes, 0);
        log.info({ out: r.out, files: r.manifest.files.length, bytes, schemaVersion: r.manifest.schemaVersion }, 'backup written');
        out(`backup written to ${escapeField(r.out)}: ${r.manifest.files.length} files, ${bytes} bytes, schema version ${r.manifest.schemaVersion}, integrity_check ok`);
        if (r.externalTls.length > 0) out(`note: the config names TLS files outside the data directory, not included: ${r.externalTls.map(escapeField).join(', ')}`);
      });
    });
  program
    .command('restore <backup>')
    .description('put a backup (directory or .tar.gz) back into a data directory; the server must be stopped')
    .option('-d, --data <dir>', 'data directory', './hearth-data')
    .option('-f, --force', 'restore over an existing database (its files are moved aside to <data>/pre-restore-<time>/)')
    .action(async (backup: string, o: { data: string; force?: boolean }) => {
      const r = restoreBackup({ backup, dataDir: o.data, force: Boolean(o.force) });
      await withLog(o.data, (log) => {
        log.info({ backup: resolve(backup), schemaVersion: r.manifest.schemaVersion, movedAside: r.movedAside }, 'backup restored');
      });
      out(`restored ${escapeField(resolve(backup))} (made ${escapeField(r.manifest.createdAt)} by Hearth ${escapeField(r.manifest.hearthVersion)}) into ${escapeField(resolve(o.data))}`);
      if (r.movedAside) out(`the previous files are in ${escapeField(r.movedAside)}`);
      if (r.manifest.schemaVersion < r.migratesTo) out(`its database (schema version ${r.manifest.schemaVersion}) is migrated to version ${r.migratesTo} at the next start`);
      out('if the server runs as another account: chown -R hearth:hearth the data directory before starting it');
    });
}
