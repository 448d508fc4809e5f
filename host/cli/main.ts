#!/usr/bin/env node
// `hearth` command line: the server itself and the admin commands.
// commander parses flags; each command's work lives in its own module.
import { Command, Option } from 'commander';
import { ConfigError, loadServerConfig, type ServerConfigInput } from '../config/server-config.js';
import { HearthServer, HEARTH_VERSION } from '../server/server.js';
import * as admin from './admin.js';
import * as plugins from './plugin-admin.js';
import { PluginError } from '../plugins/errors.js';
import { InstallError } from '../server/plugins/installed.js';
import { err, out } from './output.js';
import { readPassword } from './password-input.js';
import { registerClientCommand } from './client-command.js';
import { OpsError } from '../ops/errors.js';
import { DatabaseError } from '../db/database.js';
import { installSignalHandlers } from './ops-signals.js';
import { registerServiceCommand } from './ops-service.js';
import { registerStatusCommand } from './ops-status.js';
import { registerBackupCommands } from './ops-backup.js';

const program = new Command();
program.name('hearth').description('Hearth: self-hosted voice chat').version(HEARTH_VERSION);

const dataOption = () => new Option('-d, --data <dir>', 'data directory').default('./hearth-data');

program
  .command('server')
  .description('run a Hearth server (zero configuration: everything defaults)')
  // No commander default here: a dataDir in --config must win over the built-in default.
  .option('-d, --data <dir>', 'data directory (default: ./hearth-data)')
  .option('-c, --config <file>', 'JSON config file (default: <data>/config.json if present)')
  .option('-p, --port <port>', 'TCP port of the control lane', (v) => Number(v))
  .option('-H, --host <address>', 'bind address')
  .option('--name <name>', 'server name shown to clients')
  .option('--tls-cert <file>', 'PEM certificate to use instead of the generated one')
  .option('--tls-key <file>', 'PEM private key for --tls-cert')
  .addOption(new Option('--registration <policy>', 'who may create accounts').choices(['open', 'invite', 'closed']))
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']))
  .option('--metrics <host:port>', 'serve /metrics (Prometheus), /healthz and /readyz on this address, e.g. 127.0.0.1:9464 (default: off)')
  .action(async (o: { data?: string; config?: string; port?: number; host?: string; name?: string; tlsCert?: string; tlsKey?: string; registration?: 'open' | 'invite' | 'closed'; logLevel?: 'info'; metrics?: string }) => {
    const overrides: ServerConfigInput = {};
    if (o.data !== undefined) overrides.dataDir = o.data;
    if (o.port !== undefined) overrides.port = o.port;
    if (o.host !== undefined) overrides.host = o.host;
    if (o.name !== undefined) overrides.serverName = o.name;
    if (o.registration !== undefined) overrides.registration = o.registration;
    if (o.tlsCert !== undefined || o.tlsKey !== undefined) overrides.tls = { certFile: o.tlsCert, keyFile: o.tlsKey };
    if (o.logLevel !== undefined) overrides.log = { level: o.logLevel };
    if (o.metrics !== undefined) overrides.metrics = { listen: o.metrics };
    const server = new HearthServer(loadServerConfig(overrides, o.config));
    // A `systemctl reload` while starting must not kill the process (SIGHUP's default action).
    const hupWhileStarting = () => {};
    process.on('SIGHUP', hupWhileStarting);
    const info = await server.start();
    out(`Hearth ${HEARTH_VERSION} listening on ${info.host}:${info.port} (TLS 1.3), voice on UDP ${info.voicePort}`);
    out(`data directory: ${server.config.dataDir}`);
    out(`certificate SHA-256 fingerprint: ${info.fingerprint}${info.certGenerated ? ' (newly generated)' : ''}`);
    if (info.bootstrapToken) {
      out('');
      out('No admin account exists yet. Either register the first admin from a client with this one-time token:');
      out(`  bootstrap token: ${info.bootstrapToken}`);
      out(`or create one here:  hearth user add <name> --role admin --data ${server.config.dataDir}`);
    }
    const metrics = server.metricsAddress;
    if (metrics) out(`metrics: http://${metrics.host.includes(':') ? `[${metrics.host}]` : metrics.host}:${metrics.port}/metrics (also /healthz, /readyz)`);
    // SIGHUP re-reads the same file with the same flags on top.
    installSignalHandlers(server, () => loadServerConfig(overrides, o.config));
    process.off('SIGHUP', hupWhileStarting);
  });

const user = program.command('user').description('manage accounts');
user
  .command('add <username>')
  .description('create an account')
  .addOption(dataOption())
  .option('-r, --role <role>', 'guest, member, moderator or admin', 'member')
  .option('--password-stdin', 'read the password from standard input')
  .action(async (username: string, o: { data: string; role: string; passwordStdin?: boolean }) => {
    await admin.userAdd(o.data, username, o.role, await readPassword({ stdin: Boolean(o.passwordStdin) }));
  });
user
  .command('passwd <username>')
  .description('set a new password')
  .addOption(dataOption())
  .option('--password-stdin', 'read the password from standard input')
  .action(async (username: string, o: { data: string; passwordStdin?: boolean }) => {
    await admin.userPasswd(o.data, username, await readPassword({ stdin: Boolean(o.passwordStdin), prompt: 'New password: ' }));
  });
user
  .command('role <username> <role>')
  .description('change the global role of an account')
  .addOption(dataOption())
  .action((username: string, role: string, o: { data: string }) => admin.userRole(o.data, username, role));
user
  .command('list')
  .description('list accounts')
  .addOption(dataOption())
  .action((o: { data: string }) => admin.userList(o.data));

const ban = program.command('ban').description('manage bans');
ban
  .command('list')
  .description('list active bans')
  .addOption(dataOption())
  .option('-a, --all', 'include expired bans')
  .action((o: { data: string; all?: boolean }) => admin.banList(o.data, Boolean(o.all)));
ban
  .command('add')
  .description('ban an account and/or an address')
  .addOption(dataOption())
  .option('-u, --user <username>', 'account to ban')
  .option('-i, --ip <address>', 'address to ban')
  .option('-r, --reason <text>', 'reason shown to the banned user', '')
  .option('-t, --duration <time>', 'e.g. 30m, 12h, 7d (default: permanent)')
  .action((o: { data: string; user?: string; ip?: string; reason: string; duration?: string }) => admin.banAdd(o.data, o));
ban
  .command('remove <id>')
  .description('lift a ban')
  .addOption(dataOption())
  .action((id: string, o: { data: string }) => {
    if (!/^\d+$/.test(id)) throw new admin.CliError(`ban id must be a number, got "${id}"`);
    return admin.banRemove(o.data, Number(id));
  });

const plugin = program.command('plugin').description('manage plugins');
plugin
  .command('list')
  .description('list installed plugins')
  .addOption(dataOption())
  .action((o: { data: string }) => plugins.pluginList(o.data));
plugin
  .command('install <manifest>')
  .description('install a plugin (its capabilities are shown and must be granted)')
  .addOption(dataOption())
  .option('-g, --grant <caps>', 'comma-separated capabilities to grant')
  .option('--grant-requested', 'grant every capability the manifest asks for')
  .option('--config <file>', 'JSON config for the plugin (overlays its defaults)')
  .option('--wasm <file>', 'the wasm file, if not next to the manifest')
  .action((manifest: string, o: { data: string; grant?: string; grantRequested?: boolean; config?: string; wasm?: string }) => plugins.pluginInstall(o.data, manifest, o));
plugin
  .command('enable <id>')
  .description('enable an installed plugin (also clears a fault mark: the server tries to load it again)')
  .addOption(dataOption())
  .action((id: string, o: { data: string }) => plugins.pluginSetEnabled(o.data, id, true));
plugin
  .command('disable <id>')
  .description('disable an installed plugin (it stays installed)')
  .addOption(dataOption())
  .action((id: string, o: { data: string }) => plugins.pluginSetEnabled(o.data, id, false));
plugin
  .command('approve <id>')
  .description('approve the installed wasm of a plugin (a new version gets no grant until then): shows what it asks for and what changed')
  .addOption(dataOption())
  .option('-g, --grant <caps>', 'comma-separated capabilities to grant')
  .option('--grant-requested', 'grant every capability the manifest asks for')
  .action((id: string, o: { data: string; grant?: string; grantRequested?: boolean }) => plugins.pluginApprove(o.data, id, o));
plugin
  .command('dev-regrant <id> <on|off>')
  .description('development mode for one plugin: a new wasm is re-granted its earlier grants automatically')
  .addOption(dataOption())
  .action((id: string, value: string, o: { data: string }) => plugins.pluginDevRegrant(o.data, id, value));
plugin
  .command('remove <id>')
  .description('uninstall a plugin and delete its stored data')
  .addOption(dataOption())
  .action((id: string, o: { data: string }) => plugins.pluginRemove(o.data, id));

plugin
  .command('new <name>')
  .description('create a plugin project from a template')
  .addOption(new Option('-k, --kind <kind>', 'what the plugin is').choices(['bot', 'moderation', 'effect', 'layout']).default('bot'))
  .addOption(new Option('-l, --lang <lang>', 'source language: AssemblyScript, C or JavaScript').choices(['as', 'c', 'js']).default('as'))
  .option('--dir <parent>', 'where to create it', '.')
  .action(async (name: string, o: { kind: 'bot' | 'moderation' | 'effect' | 'layout'; lang: 'as' | 'c' | 'js'; dir: string }) => {
    // Loaded on demand: the AssemblyScript compiler takes a second to load.
    const dev = await import('./plugin-dev.js');
    await dev.pluginNew(name, o.kind, o.dir, process.stdout, o.lang);
  });
plugin
  .command('build [dir]')
  .description("compile a plugin (index.ts, index.c or plugin.js) to wasm and write its sha256 into manifest.json")
  .action(async (dir: string | undefined) => {
    const dev = await import('./plugin-dev.js');
    await dev.pluginBuild(dir ?? '.');
  });
plugin
  .command('dev [dir]')
  .description('watch a plugin: rebuild on every save and hot-reload it on a local server (started here unless --no-serve)')
  .addOption(dataOption())
  .option('--no-serve', 'do not start a server: install into --data for a server that already runs on it')
  .option('-p, --port <port>', 'port of the local server', (v) => Number(v), 64738)
  .action(async (dir: string | undefined, o: { data: string; serve: boolean; port: number }) => {
    const w = await import('./plugin-dev-watch.js');
    const session = await w.pluginDev(dir ?? '.', { dataDir: o.data, serve: o.serve, port: o.port });
    await new Promise<void>((done) => process.once('SIGINT', () => void session.stop().then(done)));
  });
plugin
  .command('hash <file>')
  .description('print the sha256 of a wasm file (for a manifest\'s wasm.sha256)')
  .action(async (file: string) => {
    const t = await import('./plugin-manifest-tool.js');
    await t.pluginHash(file);
  });
plugin
  .command('manifest <wasm>')
  .description('write (or update) the manifest of a wasm built by any toolchain: hooks and capabilities from its exports and imports, wasm.file and sha256')
  .option('-o, --out <manifest>', 'manifest path (default: manifest.json next to the wasm)')
  .option('--id <id>', 'plugin id of a new manifest (default: from the file name)')
  .option('--commands <list>', 'comma-separated chat commands routed to on_command (new manifest)')
  .action(async (wasm: string, o: { out?: string; id?: string; commands?: string }) => {
    const t = await import('./plugin-manifest-tool.js');
    await t.pluginManifest(wasm, { ...(o.out ? { out: o.out } : {}), ...(o.id ? { id: o.id } : {}), ...(o.commands ? { commands: o.commands.split(',').map((c) => c.trim()).filter(Boolean) } : {}) });
  });

plugin
  .command('test <manifest>')
  .description('run one audio plugin over a 48 kHz mono WAV file, frame by frame as the capture chain calls it, and print its per-frame cost (JSON)')
  .requiredOption('-i, --input <wav>', 'the mic signal (48 kHz mono WAV)')
  .requiredOption('-o, --output <wav>', 'where to write the processed signal')
  .option('-r, --reference <wav>', "the far-end signal for an echo canceller, aligned sample for sample to --input")
  .option('--config <json>', 'plugin config: a JSON object, or a JSON file (overlays its defaults)')
  .option('--grant-requested', 'grant every capability the manifest asks for (default: audio.intercept and config.read)')
  .option('--wasm <file>', 'the wasm file, if not next to the manifest')
  .option('--deadline-ms <ms>', 'how long the chain may hold a frame (default 8, as the client)', (v) => Number(v))
  .option('--warmup <frames>', 'silent frames run first and not counted (default 20)', (v) => Number(v))
  .action(async (manifest: string, o: { input: string; output: string; reference?: string; config?: string; grantRequested?: boolean; wasm?: string; deadlineMs?: number; warmup?: number }) => {
    const t = await import('./plugin-test.js');
    await t.pluginTest(manifest, o);
  });

const channel = program.command('channel').description('inspect channels');
channel
  .command('list')
  .description('print the channel tree')
  .addOption(dataOption())
  .action((o: { data: string }) => admin.channelList(o.data));

registerClientCommand(program);
registerServiceCommand(program);
registerStatusCommand(program);
registerBackupCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof admin.CliError || e instanceof ConfigError || e instanceof PluginError || e instanceof InstallError || e instanceof OpsError || e instanceof DatabaseError || (e instanceof Error && e.name === 'PluginDevError')) {
    err(`hearth: ${e.message}`);
    process.exit(1);
  }
  err(`hearth: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
