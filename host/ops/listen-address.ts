// "host:port" as an operator writes it for the metrics endpoint
// (`--metrics 127.0.0.1:9464`, `[::1]:9464`). A bare port is refused on
// purpose: the endpoint tells anyone who can reach it how many people are
// online, so where it listens must be a decision, not a default of 0.0.0.0.
import { isIP } from 'node:net';
import { OpsError } from './errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListenAddress(text: string): ListenAddress {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]\s]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new OpsError('BAD_LISTEN_ADDRESS', `metrics address "${text}" is not host:port (examples: 127.0.0.1:9464, [::1]:9464)`);
  }
  const host = m[1]!;
  if (text.startsWith('[') && isIP(host) !== 6) throw new OpsError('BAD_LISTEN_ADDRESS', `metrics address "${text}": "${host}" is not an IPv6 address`);
  return { host, port };
}

/** The inverse, for logs and the run file: IPv6 in brackets. */
export function formatListenAddress(a: ListenAddress): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
