// `hearth client`: the desktop client, or with --headless a whole client with
// no UI (bots, tests, demos). Registered on the main program by main.ts.
import { Command, Option } from 'commander';
import { err, out } from './output.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerClientCommand(program: Command): void {
  program
    .command('client')
    .description('run the Hearth desktop client (its UI in an app window), or with --headless a client with no UI')
    .option('--headless', 'no UI: connect, play/record WAV files, exit after --seconds')
    .option('--list-devices', 'list the sound cards (input and output) and exit')
    .option('-s, --server <host:port>', 'server to connect to')
    .option('-u, --user <name>', 'user name')
    .option('--password-file <file>', 'file holding the password (first line)')
    .option('--fingerprint <sha256>', "the server certificate's SHA-256 fingerprint to require (else trust on first use)")
    .option('--channel <name>', 'channel to join (default: where the server puts you, the root)')
    .option('--play <in.wav>', 'play this 48 kHz WAV file into the microphone')
    .option('--record <out.wav>', 'record what you hear to this WAV file (48 kHz stereo)')
    .option('--effect <manifest>', 'run this audio plugin in the capture chain (repeatable)', collect, [] as string[])
    .option('--effect-config <id=json>', 'config of an effect, e.g. gain={"gain":0.5} (repeatable)', collect, [] as string[])
    .option('--seconds <s>', 'exit after this many seconds', (v) => Number(v))
    .option('--stats', 'print the voice statistics as one JSON line at exit')
    .option('--register', 'create the account instead of logging in')
    .option('--invite <token>', 'invite token for --register')
    .option('--bootstrap-token <token>', "the server's one-time bootstrap token (first admin) for --register")
    .addOption(new Option('--voice <mode>', 'transmit mode').choices(['vad', 'ptt', 'continuous']))
    .option('--vad-threshold <dB>', 'voice activation threshold in dBFS', (v) => Number(v))
    .option('--no-window', 'desktop UI: open no window, only print its address (remote use, tests)')
    .option('--port <port>', 'desktop UI: port on 127.0.0.1 (default: random)', (v) => Number(v))
    .option('--layout <manifest>', 'desktop UI: draw the UI with this layout plugin')
    .option('--input <spec>', 'desktop UI: microphone: none, virtual, wav:PATH, portaudio:NAME (default: settings.json, else the system default)')
    .option('--output <spec>', 'desktop UI: speaker: none, virtual, wav:PATH, portaudio:NAME')
    .action(async (o: Record<string, unknown>) => {
      if (o.listDevices) {
        const { listDevices } = await import('../client/audio/devices/index.js');
        try {
          const l = listDevices();
          out('inputs:');
          for (const d of l.inputs) out(`  ${d.default ? '*' : ' '} ${d.name}`);
          out('outputs:');
          for (const d of l.outputs) out(`  ${d.default ? '*' : ' '} ${d.name}`);
          process.exit(0);
        } catch (e) {
          err(`hearth: ${(e as Error).message}`);
          process.exit(1);
        }
      }
      if (!o.headless) {
        const { runDesktop, DesktopError } = await import('../client/ui/desktop.js');
        if (o.port !== undefined && !(Number.isInteger(o.port) && (o.port as number) >= 0 && (o.port as number) <= 65535)) {
          err('hearth: --port must be 0-65535');
          process.exit(2);
        }
        try {
          const code = await runDesktop({
            noWindow: o.window === false,
            ...(o.port !== undefined ? { port: o.port as number } : {}),
            ...(o.layout ? { layout: o.layout as string } : {}),
            ...(o.input ? { input: o.input as string } : {}),
            ...(o.output ? { output: o.output as string } : {}),
          });
          process.exit(code);
        } catch (e) {
          if (e instanceof DesktopError) {
            err(`hearth: ${e.message}`);
            process.exit(e.exitCode);
          }
          err(`hearth: ${(e as Error).message}`);
          process.exit(1);
        }
      }
      const { runHeadless, HeadlessError } = await import('../client/headless/run.js');
      const { startHeadlessContext } = await import('../client/headless/context.js');
      for (const need of ['server', 'user', 'passwordFile'] as const) {
        if (o[need] === undefined) {
          err(`hearth: --headless needs --${need === 'passwordFile' ? 'password-file' : need}`);
          process.exit(2);
        }
      }
      const effectConfig: Record<string, Record<string, unknown>> = {};
      for (const kv of o.effectConfig as string[]) {
        const at = kv.indexOf('=');
        try {
          if (at < 1) throw new Error('expected ID=JSON');
          const v = JSON.parse(kv.slice(at + 1)) as unknown;
          if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('the JSON must be an object');
          effectConfig[kv.slice(0, at)] = v as Record<string, unknown>;
        } catch (e) {
          err(`hearth: --effect-config ${kv}: ${(e as Error).message}`);
          process.exit(2);
        }
      }
      if (o.seconds !== undefined && !Number.isFinite(o.seconds as number)) {
        err('hearth: --seconds must be a number');
        process.exit(2);
      }
      const ctx = await startHeadlessContext();
      try {
        const r = await runHeadless(
          {
            server: o.server as string,
            user: o.user as string,
            passwordFile: o.passwordFile as string,
            effects: o.effect as string[],
            effectConfig,
            stats: Boolean(o.stats),
            ...(o.fingerprint ? { fingerprint: o.fingerprint as string } : {}),
            ...(o.channel ? { channel: o.channel as string } : {}),
            ...(o.play ? { play: o.play as string } : {}),
            ...(o.record ? { record: o.record as string } : {}),
            ...(o.seconds !== undefined ? { seconds: o.seconds as number } : {}),
            ...(o.register ? { register: true } : {}),
            ...(o.invite ? { invite: o.invite as string } : {}),
            ...(o.bootstrapToken ? { bootstrapToken: o.bootstrapToken as string } : {}),
            ...(o.voice ? { mode: o.voice as 'vad' } : {}),
            ...(o.vadThreshold !== undefined ? { vadThresholdDb: o.vadThreshold as number } : {}),
          },
          ctx,
        );
        if (r.stats) out(JSON.stringify(r.stats));
        await ctx.close();
        process.exit(r.exitCode);
      } catch (e) {
        await ctx.close();
        if (e instanceof HeadlessError) {
          err(`hearth: ${e.message}`);
          process.exit(e.exitCode);
        }
        throw e;
      }
    });
}
