// The attacks of issue 10, measured from outside on a real server (one JSON
// line): a legitimate client's login latency under a pre-handshake flood of
// 2,100 sockets from 8 addresses (and under 2,100 completed handshakes that
// never log in), the guesses per second an attacker with 10 addresses gets
// against one account, a legitimate listener's voice delivery under 40k/s of
// garbage datagrams, and the server's CPU per dropped garbage datagram. Each
// part carries its own baseline from the same run (no flood).
//   node dist/bench/abuse.js [udpSeconds]      (default 10; the run is 25 s = 1M datagrams)
// The parts run alone too: bench/abuse/conn-flood.ts, bench/abuse/udp-flood.ts.
import { measureConnFlood } from './abuse/conn-flood.js';
import { measureUdpFlood } from './abuse/udp-flood.js';

const udpSeconds = Number(process.argv[2] ?? 10);
const conn = await measureConnFlood();
const udp = await measureUdpFlood({ seconds: udpSeconds });
process.stdout.write(
  JSON.stringify({
    bench: 'abuse',
    loginMsUnderFlood: conn.loginMsUnderFlood,
    loginMsUnderHandshakeFlood: conn.loginMsUnderHandshakeFlood,
    loginFailuresUnderFlood: conn.loginFailures.flood + conn.loginFailures.handshakeFlood,
    guessesPerSecPerAccount10Ips: conn.guessesPerSecPerAccount10Ips,
    ownerLoginAfterGuessing: conn.ownerLoginAfterGuessing,
    sustainedGuessesPerHourPerAccount: conn.sustainedGuessesPerHourPerAccount,
    legitVoiceDeliveryPct: udp.legitVoiceDeliveryPct,
    longestGapMs: udp.longestGapMs,
    cpuUsPerDroppedDatagram: udp.cpuUsPerDroppedDatagram,
    kernelDrops: udp.kernelDrops,
    floodDatagrams: udp.floodSent,
    floodPerSecond: udp.floodSentPerSecond,
    baseline: { loginMs: conn.loginMsBaseline, legitVoiceDeliveryPct: udp.baseline.legitVoiceDeliveryPct, longestGapMs: udp.baseline.longestGapMs },
    loadAvg1: udp.loadAvg1,
  }) + '\n',
);
process.exit(0);
