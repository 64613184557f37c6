-- Candor relay schema, version 2: handoff channels with their notice board (issue 16), and
-- the ombuds' case notes (issue 17).

-- A handoff's channel: tied to its office only, never to a case, so deleting or sweeping a
-- mailbox never touches it. `cursor` is its place on the relay-wide notice board.
CREATE TABLE channels (
    id BYTEA PRIMARY KEY,
    office TEXT NOT NULL REFERENCES offices (id),
    expiry BIGINT NOT NULL,
    cursor BIGINT NOT NULL UNIQUE,
    notice BYTEA NOT NULL,
    body BYTEA NOT NULL
);
CREATE INDEX channels_office ON channels (office);
CREATE INDEX channels_expiry ON channels (expiry);

-- The board's counter: the last cursor handed out. The row is also the board's lock: every
-- opening of a channel takes it FOR UPDATE first, so that cursors commit in the order they
-- are handed out, on every relay instance, and a reader polling from its last cursor never
-- skips a channel that committed late. It only grows, so a cursor is never handed out twice,
-- even once its channel is deleted.
CREATE TABLE channel_board (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    last_cursor BIGINT NOT NULL
);
INSERT INTO channel_board (last_cursor) VALUES (0);

-- The ombuds' notes beside a case: not envelopes, numbered per mailbox, gone with it.
CREATE TABLE notes (
    mailbox BYTEA NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    note BYTEA NOT NULL,
    PRIMARY KEY (mailbox, number)
);

UPDATE candor_schema SET version = 2;
