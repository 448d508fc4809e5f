// Child-process entry for devices.test.ts: runs the PortAudio probe in a
// worker thread (as the audio engine uses naudiodon) inside a process of its
// own. PortAudio and ALSA run native threads of their own; once a worker that
// used them has gone, one of them has been seen to crash the whole process
// later (a segfault in unmapped code). A child process keeps such a crash out
// of the test runner, and the test reports it as a failure with its cause.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const w = new Worker(fileURLToPath(new URL('./portaudio-worker.js', import.meta.url)));
let result: unknown = null;
const timer = setTimeout(() => {
  process.stdout.write(JSON.stringify({ fatal: result ? 'the PortAudio worker did not exit after reporting (a stream left open?)' : 'the PortAudio probe did not finish in 60 s' }) + '\n');
  process.exit(3);
}, 60_000);
w.on('message', (m: unknown) => (result = m));
w.once('error', (e) => {
  clearTimeout(timer);
  process.stdout.write(JSON.stringify({ fatal: `worker error: ${e.message}` }) + '\n');
  process.exit(2);
});
w.once('exit', (code) => {
  clearTimeout(timer);
  process.stdout.write(JSON.stringify(result ?? { fatal: `the PortAudio worker exited (code ${code}) without reporting` }) + '\n');
  process.exit(0);
});
