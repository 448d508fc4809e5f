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
  .action(async (o: { data?: string; config?: string; port?: number; host?: string; name?: string; tlsCert?: string; tlsKey?: string; registration?: 'open' | 'invite' | 'closed'; logLevel?: 'info' }) => {
    const overrides: ServerConfigInput = {};
    if (o.data !== undefined) overrides.dataDir = o.data;
    if (o.port !== undefined) overrides.port = o.port;
    if (o.host !== undefined) overrides.host = o.host;
    if (o.name !== undefined) overrides.serverName = o.name;
    if (o.registration !== undefined) overrides.registration = o.registration;
    if (o.tlsCert !== undefined || o.tlsKey !== undefined) overrides.tls = { certFile: o.tlsCert, keyFile: o.tlsKey };
    if (o.logLevel !== undefined) overrides.log = { level: o.logLevel };
    const server = new HearthServer(loadServerConfig(overrides, o.config));
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
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.log.info({ signal }, 'shutting down');
      await server.stop();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
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
  .description('enable an installed plugin')
  .addOption(dataOption())
  .action((id: string, o: { data: string }) => plugins.pluginSetEnabled(o.data, id, true));
plugin
  .command('disable <id>')
  .description('disable an installed plugin (it stays installed)')
  .addOption(dataOption())
  .action((id: string, o: { data: string }) => plugins.pluginSetEnabled(o.data, id, false));
plugin
  .command('remove <id>')
  .description('uninstall a plugin and delete its stored data')
  .addOption(dataOption())
  .action((id: string, o: { data: string }) => plugins.pluginRemove(o.data, id));

plugin
  .command('new <name>')
  .description('create a plugin project from a template')
  .addOption(new Option('-k, --kind <kind>', 'what the plugin is').choices(['bot', 'moderation', 'effect', 'layout']).default('bot'))
  .option('--dir <parent>', 'where to create it', '.')
  .action(async (name: string, o: { kind: 'bot' | 'moderation' | 'effect' | 'layout'; dir: string }) => {
    // Loaded on demand: the AssemblyScript compiler takes a second to load.
    const dev = await import('./plugin-dev.js');
    await dev.pluginNew(name, o.kind, o.dir);
  });
plugin
  .command('build [dir]')
  .description("compile a plugin's index.ts to wasm and write its sha256 into manifest.json")
  .action(async (dir: string | undefined) => {
    const dev = await import('./plugin-dev.js');
    await dev.pluginBuild(dir ?? '.');
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

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof admin.CliError || e instanceof ConfigError || e instanceof PluginError || e instanceof InstallError || (e instanceof Error && e.name === 'PluginDevError')) {
    err(`hearth: ${e.message}`);
    process.exit(1);
  }
  err(`hearth: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
