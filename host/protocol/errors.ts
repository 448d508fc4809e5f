// Every error code of the control protocol, listed once. Clients branch on the
// code; the message is for people. docs/PROTOCOL.md mirrors this table.
export const ERROR_CODES = {
  FRAME_TOO_LARGE: 'A frame exceeded the size limit; the connection is closed.',
  BAD_FRAME: 'A frame was malformed (zero length or unknown kind).',
  BAD_JSON: 'The frame body is not valid UTF-8 JSON.',
  INVALID_MESSAGE: 'The message does not match the schema of its type.',
  INVALID_TEXT: 'A human-text field holds a control, bidi or invisible format character it may not (details.field, details.codePoint).',
  UNKNOWN_TYPE: 'The message type is not part of the protocol.',
  NOT_AUTHENTICATED: 'Log in first.',
  ALREADY_AUTHENTICATED: 'This connection is already logged in.',
  AUTH_FAILED: 'Unknown user or wrong password.',
  AUTH_THROTTLED: 'Too many failed logins (from your address, or for this account from new addresses); wait retryAfterMs.',
  BANNED: 'This account or address is banned (reason and expiresAt are given).',
  REGISTRATION_CLOSED: 'The server does not accept self-registration.',
  REGISTRATION_THROTTLED: 'Too many accounts registered from your address; wait retryAfterMs.',
  INVITE_INVALID: 'The invite token is unknown, used up or expired.',
  USERNAME_TAKEN: 'That user name, or one that looks like it, is already registered (names are case-insensitive).',
  WEAK_PASSWORD: 'The password does not meet the policy.',
  FORBIDDEN: 'Your role does not allow this.',
  NOT_FOUND: 'The channel, user, session or ban does not exist (or is not visible to you).',
  CHANNEL_CYCLE: 'A channel cannot be moved under itself or one of its descendants.',
  CHANNEL_ROOT: 'The root channel cannot be deleted or moved.',
  NAME_TAKEN: 'A sibling channel you can see already has that name, or one that looks like it.',
  LIMIT_REACHED: 'A server limit (e.g. number of channels) was reached.',
  TOO_LONG: 'The text exceeds the configured length limit.',
  BLOCKED: 'A moderation plugin refused the message (details.plugin, details.reason).',
  FILTER_UNAVAILABLE: 'A fail-closed chat filter did not answer before its kill time, faulted, or is disabled; the message was not delivered (details.plugin, details.status). Try again later.',
  COMMAND_UNAVAILABLE: 'The plugin that owns this /command did not answer in time, faulted, or is disabled; the command was not run and its text was not posted (details.plugin, details.status).',
  RATE_LIMITED: 'Too many messages; this one was dropped.',
  FLOOD: 'Sustained flooding; the connection is closed.',
  BAD_VOICE: 'Sustained voice frames that do not authenticate; the connection is closed.',
  KICKED: 'A moderator removed you from the server.',
  SESSION_REPLACED: 'The same account logged in from elsewhere.',
  TIMEOUT: 'Login, idle or partial-frame timeout; the connection is closed.',
  SERVER_FULL: 'Too many connections (in total or from your address).',
  SHUTDOWN: 'The server is shutting down.',
  INTERNAL: 'An unexpected server error; nothing was changed.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Thrown by handlers to send a clean error reply. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
