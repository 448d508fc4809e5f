// `npm run bench`: runs every benchmark in turn, each in its own process with
// its default settings. Each prints its own JSON line(s) to stdout; progress
// and failures go to stderr. Exits non-zero if any benchmark failed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHES = ['voice-crypto', 'voice-fanout', 'voice-forward', 'plugin-call', 'audio-chain', 'client-frame', 'playback', 'latency', 'ui-render', 'speaking-light', 'dsp-quality', 'dsp-order', 'abuse'];

let failed = 0;
for (const name of BENCHES) {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  if (!existsSync(script)) {
    process.stderr.write(`run-all: ${name}: ${script} not built; skipped\n`);
    continue;
  }
  process.stderr.write(`run-all: ${name}\n`);
  const r = spawnSync(process.execPath, [script], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`run-all: ${name} failed (${r.status ?? r.signal})\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
