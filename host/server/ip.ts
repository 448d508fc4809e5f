// Peers connecting over IPv4 to a dual-stack socket appear as IPv4-mapped IPv6
// (::ffff:1.2.3.4); bans and limits compare the plain IPv4 form.
import { isIP } from 'node:net';

export function normalizeIp(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const lower = ip.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return lower.slice(7);
  return lower;
}
