// What a plugin may put in the server's log, and how much of it.
//
// Why: a guest controls both its own log lines and, through what it calls,
// the host's warnings about it (denied capabilities, refused requests). One
// guest wrote 6,206 warnings in 10 s and rolled the log; one 1 MB error_set
// became a 1 MB log line. So every line a plugin causes goes through one
// token bucket per plugin (burst LOG_BURST, LOG_RATE per second); the lines
// over it are counted and reported as one "N log lines suppressed" warning
// when the bucket has room again; and every text a guest controls is cut to
// TEXT_CAP characters (fault messages included).

/** Guest-controlled text in a log line or a fault message, in characters. */
export const TEXT_CAP = 1024;
export const LOG_RATE = 20;
export const LOG_BURST = 100;

/** `text` cut to `cap` characters, saying how much was cut. */
export function truncate(text: string, cap = TEXT_CAP): string {
  return text.length <= cap ? text : `${text.slice(0, cap)}… [${text.length - cap} more characters cut]`;
}

export class LogLimiter {
  private tokens = LOG_BURST;
  private refilledAt = performance.now();
  private suppressed = 0;

  /**
   * Whether one more line may be written now. `flush` is called first with
   * the count of lines suppressed since the last one that passed (if any).
   */
  take(flush: (suppressed: number) => void): boolean {
    const now = performance.now();
    this.tokens = Math.min(LOG_BURST, this.tokens + ((now - this.refilledAt) / 1000) * LOG_RATE);
    this.refilledAt = now;
    if (this.tokens < 1) {
      this.suppressed++;
      return false;
    }
    this.tokens--;
    if (this.suppressed) {
      flush(this.suppressed);
      this.suppressed = 0;
    }
    return true;
  }

  /** Lines suppressed and not reported yet. */
  get pending(): number {
    return this.suppressed;
  }
}
