// Versioned schema. Each entry moves the database from version i to i+1 and runs
// inside one transaction with PRAGMA user_version bumped, so a crash mid-way
// leaves the previous version intact. Never edit a shipped migration: append.
export const MIGRATIONS: readonly string[] = [
  /* 1: accounts, channels, bans, chat, invites, settings */ `
  CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL,
    -- NFKC + lower case: the uniqueness key ("Alice" and "alice" are one account)
    username_key  TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('guest','member','moderator','admin')),
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER
  );

  CREATE TABLE channels (
    id            INTEGER PRIMARY KEY,
    parent_id     INTEGER REFERENCES channels(id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    is_voice      INTEGER NOT NULL DEFAULT 1 CHECK (is_voice IN (0,1)),
    required_role TEXT    NOT NULL DEFAULT 'guest' CHECK (required_role IN ('guest','member','moderator','admin')),
    position      INTEGER NOT NULL DEFAULT 0,
    description   TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
  );
  -- exactly one root
  CREATE UNIQUE INDEX channels_one_root ON channels ((parent_id IS NULL)) WHERE parent_id IS NULL;
  CREATE INDEX channels_parent ON channels (parent_id, position);
  INSERT INTO channels (id, parent_id, name, is_voice, required_role, position, description, created_at)
    VALUES (1, NULL, 'Root', 1, 'guest', 0, '', CAST(unixepoch('subsec') * 1000 AS INTEGER));

  CREATE TABLE bans (
    id             INTEGER PRIMARY KEY,
    ip             TEXT,
    user_id        INTEGER REFERENCES users(id) ON DELETE CASCADE,
    expires_at     INTEGER,            -- NULL: permanent
    reason         TEXT    NOT NULL,
    banned_by      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    banned_by_name TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    CHECK (ip IS NOT NULL OR user_id IS NOT NULL)
  );
  CREATE INDEX bans_ip ON bans (ip);
  CREATE INDEX bans_user ON bans (user_id);

  CREATE TABLE chat_messages (
    id           INTEGER PRIMARY KEY,
    channel_id   INTEGER REFERENCES channels(id) ON DELETE CASCADE,
    recipient_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
    sender_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    sender_name  TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    CHECK ((channel_id IS NULL) <> (recipient_id IS NULL))
  );
  CREATE INDEX chat_channel ON chat_messages (channel_id, id);
  CREATE INDEX chat_direct ON chat_messages (recipient_id, id);

  CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT    NOT NULL UNIQUE,  -- sha256 of the token; the token itself is shown once
    role        TEXT    NOT NULL DEFAULT 'member',
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    uses_left   INTEGER NOT NULL DEFAULT 1
  );

  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  /* 2: installed plugins, their grants, and their key/value storage */ `
  CREATE TABLE plugins (
    id             TEXT    PRIMARY KEY,
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1)),
    -- JSON array: the capabilities the admin granted, for the wasm below
    grants         TEXT    NOT NULL,
    granted_sha256 TEXT    NOT NULL,
    -- JSON object overlaid on the manifest's config defaults
    config         TEXT    NOT NULL DEFAULT '{}',
    position       INTEGER NOT NULL DEFAULT 0,
    installed_at   INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS plugin_kv (
    plugin_id  TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (plugin_id, key)
  ) WITHOUT ROWID;
  `,
  /* 3: addresses each account has logged in from (the login guard lets them past the account's rate) */ `
  CREATE TABLE user_addresses (
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ip            TEXT    NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, ip)
  ) WITHOUT ROWID;
  CREATE INDEX user_addresses_recent ON user_addresses (user_id, last_seen_at);
  `,
  /* 4: look-alike keys of each account name (UTS #39 skeletons, host/protocol/confusables.ts).
     Filled in by UsersRepo.refreshNameKeys() at open: SQL cannot compute them. Not
     UNIQUE: a database may already hold two look-alike names from before. */ `
  ALTER TABLE users ADD COLUMN username_skeleton TEXT;
  ALTER TABLE users ADD COLUMN username_skeleton_folded TEXT;
  CREATE INDEX users_skeleton ON users (username_skeleton);
  CREATE INDEX users_skeleton_folded ON users (username_skeleton_folded);
  `,
  /* 5: plugin runtime state the CLI can show, load faults that keep a plugin off until the
     admin re-enables it, a crash marker around each load, the backoff of failed loads, the
     manifest the grants were approved for (to show what a new version changes), the per-plugin
     development mode that re-grants a new wasm; and the bot (plugin id) that posted a message */ `
  ALTER TABLE plugins ADD COLUMN runtime_state TEXT;
  ALTER TABLE plugins ADD COLUMN state_at INTEGER;
  -- JSON {kind, hook, message, at, sha256}: the last fault, load or call
  ALTER TABLE plugins ADD COLUMN last_fault TEXT;
  -- 1: a load of this plugin crashed or hung its sandbox; not loaded until re-enabled
  ALTER TABLE plugins ADD COLUMN faulty INTEGER NOT NULL DEFAULT 0 CHECK (faulty IN (0,1));
  -- set while a load runs: still set at start-up means the server died during that load
  ALTER TABLE plugins ADD COLUMN loading_sha256 TEXT;
  ALTER TABLE plugins ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE plugins ADD COLUMN retry_at INTEGER;
  ALTER TABLE plugins ADD COLUMN granted_manifest TEXT;
  ALTER TABLE plugins ADD COLUMN dev_regrant INTEGER NOT NULL DEFAULT 0 CHECK (dev_regrant IN (0,1));
  ALTER TABLE chat_messages ADD COLUMN bot TEXT;
  `,
];
