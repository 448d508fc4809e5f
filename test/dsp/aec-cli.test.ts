// `hearth plugin test manifests/aec.json --input mic.wav --reference far.wav --output out.wav`,
// spawned for real on a synthetic room: it runs, prints its JSON line, and the output has
// the echo cancelled. (The client's 8 ms deadline and the manifest's limits apply, so on a
// busy machine a frame may be bypassed: the bound is loose.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav, writeWav } from '../../host/client/audio/wav.js';
import { BASE_ROOM, buildEchoCase, echoFigures } from '../../host/dsp/aec-cases.js';
import { tempDir } from '../helpers/server.js';

const MAIN = fileURLToPath(new URL('../../host/cli/main.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

function hearth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: REPO, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('hearth plugin test runs the echo canceller over mic.wav with far.wav as its reference', async () => {
  const dir = tempDir('hearth-aec-cli-');
  try {
    const c = buildEchoCase({ room: BASE_ROOM, seconds: 5 });
    const mic = join(dir, 'mic.wav');
    const far = join(dir, 'far.wav');
    const outPath = join(dir, 'out.wav');
    await writeWav(mic, c.mic, { channels: 1, sampleRate: 48_000, format: 'f32' });
    await writeWav(far, c.reference, { channels: 1, sampleRate: 48_000, format: 'f32' });
    const r = await hearth(['plugin', 'test', 'manifests/aec.json', '--input', mic, '--reference', far, '--output', outPath]);
    assert.is(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim()) as { plugin: string; slot: string; frames: number; usP50: number; bypassed: number; state: string };
    assert.is(s.plugin, 'aec');
    assert.is(s.slot, 'aec');
    assert.is(s.frames, 250);
    assert.is(s.state, 'running');
    const out = readWav(outPath).samples;
    assert.is(out.length, c.mic.length);
    const erle = echoFigures(c, out.subarray(240)).erleDb;
    assert.ok(erle >= (s.bypassed ? 10 : 20), `ERLE ${erle.toFixed(1)} dB (${s.bypassed} frames bypassed)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
