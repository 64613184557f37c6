-- Candor relay schema, version 1. Integers are BIGINT holding u64 values below 2^63.
-- Kept to SQL that CockroachDB and YugabyteDB also accept (no triggers, no functions).

CREATE TABLE candor_schema (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    version INTEGER NOT NULL
);

-- One row per office. The row is also the office's lock: every write that touches the
-- office's counters, inbox or mailboxes takes it FOR UPDATE first, so that activity numbers
-- commit in order across every relay instance.
CREATE TABLE offices (
    id TEXT PRIMARY KEY,
    card BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    signing_key BYTEA NOT NULL,
    serial BIGINT NOT NULL,
    retention_days INTEGER NOT NULL,
    activity BIGINT NOT NULL DEFAULT 0,
    open_mailboxes BIGINT NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE mailboxes (
    id BYTEA PRIMARY KEY,
    office TEXT NOT NULL REFERENCES offices (id),
    signing_key BYTEA NOT NULL,
    kem_key BYTEA NOT NULL,
    last_seq BIGINT NOT NULL,
    count BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    expiry BIGINT NOT NULL,
    activity BIGINT NOT NULL,
    closed BOOLEAN NOT NULL DEFAULT FALSE,
    marker BYTEA
);
-- The inbox: an office's mailboxes by activity.
CREATE UNIQUE INDEX mailboxes_inbox ON mailboxes (office, activity);
-- The expiry index: the sweeper reads only what expired.
CREATE INDEX mailboxes_expiry ON mailboxes (expiry);

CREATE TABLE envelopes (
    mailbox BYTEA NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    json BYTEA NOT NULL,
    PRIMARY KEY (mailbox, seq)
);

CREATE TABLE packages (
    id BYTEA PRIMARY KEY,
    mailbox BYTEA NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    expiry BIGINT NOT NULL,
    body BYTEA NOT NULL
);
CREATE INDEX packages_mailbox ON packages (mailbox, id);
CREATE INDEX packages_expiry ON packages (expiry);

-- Spent proofs of work (kind 1) and used invites (kind 2), until they expire.
CREATE TABLE used_tokens (
    kind SMALLINT NOT NULL,
    random BYTEA NOT NULL,
    expires BIGINT NOT NULL,
    PRIMARY KEY (kind, random)
);
CREATE INDEX used_tokens_expires ON used_tokens (expires);

-- An office's sealed tallies: no case, no time. Neither deleting a mailbox nor the sweep
-- reads this table; rows go only once their keep-until year is over.
CREATE TABLE tallies (
    id BYTEA PRIMARY KEY,
    office TEXT NOT NULL REFERENCES offices (id),
    keep_until INTEGER NOT NULL,
    sealed BYTEA NOT NULL
);
CREATE INDEX tallies_office ON tallies (office, id);
CREATE INDEX tallies_keep_until ON tallies (keep_until);

-- Request IDs seen inside the replay window, shared by every instance. Unlogged: not in the
-- WAL, not replicated, emptied by a crash, which only forgets IDs that expire within minutes
-- anyway. No mailbox ID and no exact time: the ID is a digest, the expiry rounded.
CREATE UNLOGGED TABLE replay_ids (
    id BYTEA PRIMARY KEY,
    expires BIGINT NOT NULL
);
CREATE INDEX replay_ids_expires ON replay_ids (expires);

INSERT INTO candor_schema (version) VALUES (1);
