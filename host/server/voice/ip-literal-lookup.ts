// The voice lane's dgram `lookup` (voice-lane.ts). dgram resolves every
// destination through `lookup` (default dns.lookup, which answers even an IP
// literal on the next tick: a deferred call and a closure per datagram). The
// lane only sends to addresses taken from rinfo, i.e. IP literals, so answer
// those at once; anything else still goes to dns.lookup.
import dns from 'node:dns';
import { isIP } from 'node:net';

export function ipLiteralLookup(address: string, family: number, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const f = isIP(address);
  if (f !== 0) callback(null, address, f);
  else dns.lookup(address, family, callback);
}
