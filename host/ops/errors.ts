// Errors of the operations tooling (service unit, metrics endpoint, health,
// backup/restore, reload). `code` is stable (tests and scripts match on it);
// `message` is for the admin reading a terminal or a log.
export type OpsErrorCode =
  /** A metrics address that is not "host:port" (IPv6 in brackets). */
  | 'BAD_LISTEN_ADDRESS'
  /** The metrics endpoint could not bind its address. */
  | 'METRICS_BIND_FAILED'
  /** `hearth backup`: the output already exists and is not an empty directory. */
  | 'BACKUP_TARGET_EXISTS'
  /** `hearth backup`: the data directory has no database to copy. */
  | 'BACKUP_SOURCE_MISSING'
  /** `hearth restore`: not a Hearth backup, or a file in it is missing or altered. */
  | 'BACKUP_INVALID'
  /** `hearth restore`: the backup's database was written by a newer Hearth. */
  | 'BACKUP_TOO_NEW'
  /** A database failed PRAGMA integrity_check. */
  | 'INTEGRITY_FAILED'
  /** `hearth restore`: a server is running on the target data directory. */
  | 'SERVER_RUNNING'
  /** `hearth restore`: the target already holds a database and --force was not given. */
  | 'RESTORE_TARGET_NOT_EMPTY'
  /** `hearth service install`: the account named by --user does not exist. */
  | 'SERVICE_USER_UNKNOWN'
  /** `hearth service install|print`: --user root; the service must not run privileged. */
  | 'SERVICE_USER_PRIVILEGED'
  /** `hearth service install`: the unit file could not be written. */
  | 'SERVICE_WRITE_FAILED'
  /** SIGHUP: the new configuration or certificate was refused; the old one stays. */
  | 'RELOAD_FAILED';

export class OpsError extends Error {
  readonly code: OpsErrorCode;
  constructor(code: OpsErrorCode, message: string) {
    super(message);
    this.name = 'OpsError';
    this.code = code;
  }
}
