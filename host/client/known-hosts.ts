// Trust on first use, as SSH does: the first time a client meets a server it
// records the certificate's SHA-256 fingerprint; afterwards a different one is
// refused with a clear error (the server's key changed, or someone is in between).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class FingerprintMismatchError extends Error {
  constructor(readonly hostKey: string, readonly expected: string, readonly actual: string) {
    super(
      `certificate fingerprint of ${hostKey} changed!\n  pinned:  ${expected}\n  offered: ${actual}\n` +
        'Either the server was reinstalled or someone is intercepting the connection. ' +
        'If the change is expected, remove the entry from the known-hosts file and connect again.',
    );
  }
}

export class KnownHosts {
  constructor(private readonly file: string) {}

  private read(): Record<string, string> {
    if (!existsSync(this.file)) return {};
    return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
  }

  get(hostKey: string): string | undefined {
    return this.read()[hostKey];
  }

  /** Pins on first use; throws FingerprintMismatchError on a change. Returns true if newly pinned. */
  verify(hostKey: string, fingerprint: string): boolean {
    const all = this.read();
    const pinned = all[hostKey];
    if (pinned === undefined) {
      all[hostKey] = fingerprint;
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(this.file, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
      return true;
    }
    if (pinned !== fingerprint) throw new FingerprintMismatchError(hostKey, pinned, fingerprint);
    return false;
  }
}
