-- Initial schema. Times are Unix nanoseconds, and NULL for the zero time,
-- which queries treat as earlier than any other. Durations are nanoseconds
-- and booleans 0 or 1. STRICT tables make SQLite reject a value of the wrong
-- type instead of storing it.

CREATE TABLE requests (
    id               INTEGER PRIMARY KEY,
    version          INTEGER NOT NULL,
    state            TEXT    NOT NULL,
    requester        TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    target           TEXT    NOT NULL,
    principal        TEXT    NOT NULL,
    duration_ns      INTEGER NOT NULL,
    "trigger"        TEXT    NOT NULL,
    reason           TEXT    NOT NULL,
    ticket           TEXT    NOT NULL,
    contract_id      TEXT    NOT NULL,
    contract_version INTEGER NOT NULL,
    contract_hash    TEXT    NOT NULL,
    break_glass      INTEGER NOT NULL,
    stage            INTEGER NOT NULL,
    created_at       INTEGER,
    expires_at       INTEGER,
    decided_at       INTEGER,
    closer           TEXT    NOT NULL,
    close_reason     TEXT    NOT NULL
) STRICT;

CREATE INDEX requests_state ON requests (state);
CREATE INDEX requests_requester ON requests (requester);
CREATE INDEX requests_target ON requests (target, principal);

CREATE TABLE decisions (
    id              INTEGER PRIMARY KEY,
    request_id      INTEGER NOT NULL REFERENCES requests (id),
    approver        TEXT    NOT NULL,
    verdict         TEXT    NOT NULL,
    stage           INTEGER NOT NULL,
    comment         TEXT    NOT NULL,
    max_duration_ns INTEGER NOT NULL,
    at              INTEGER
) STRICT;

CREATE INDEX decisions_request ON decisions (request_id);

CREATE TABLE grants (
    id               INTEGER PRIMARY KEY,
    version          INTEGER NOT NULL,
    -- One grant per request: a second insert for the same request lost a race.
    request_id       INTEGER NOT NULL UNIQUE REFERENCES requests (id),
    state            TEXT    NOT NULL,
    requester        TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    target           TEXT    NOT NULL,
    principal        TEXT    NOT NULL,
    start_at         INTEGER,
    end_at           INTEGER,
    extensions       INTEGER NOT NULL,
    extended_ns      INTEGER NOT NULL,
    max_sessions     INTEGER NOT NULL,
    contract_id      TEXT    NOT NULL,
    contract_version INTEGER NOT NULL,
    contract_hash    TEXT    NOT NULL,
    break_glass      INTEGER NOT NULL,
    review_due       INTEGER,
    reviewed_by      TEXT    NOT NULL,
    reviewed_at      INTEGER,
    closed_at        INTEGER,
    closer           TEXT    NOT NULL,
    close_reason     TEXT    NOT NULL
) STRICT;

CREATE INDEX grants_state ON grants (state);
CREATE INDEX grants_requester ON grants (requester);
CREATE INDEX grants_target ON grants (target, principal);
CREATE INDEX grants_end ON grants (end_at);

CREATE TABLE sessions (
    id             INTEGER PRIMARY KEY,
    grant_id       INTEGER NOT NULL REFERENCES grants (id),
    kind           TEXT    NOT NULL,
    person         TEXT    NOT NULL,
    target         TEXT    NOT NULL,
    principal      TEXT    NOT NULL,
    client_addr    TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    started_at     INTEGER,
    ended_at       INTEGER,
    end_reason     TEXT    NOT NULL,
    recording      TEXT    NOT NULL,
    recording_hash TEXT    NOT NULL
) STRICT;

CREATE INDEX sessions_grant ON sessions (grant_id);
CREATE INDEX sessions_state ON sessions (state);
CREATE INDEX sessions_person ON sessions (person);

-- The audit chain has no foreign keys: an event may name a record that a
-- later migration drops, and the chain must stay readable on its own.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    time       INTEGER,
    type       TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    request_id INTEGER NOT NULL,
    grant_id   INTEGER NOT NULL,
    session_id INTEGER NOT NULL,
    details    TEXT,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
) STRICT;

CREATE INDEX events_time ON events (time);
CREATE INDEX events_request ON events (request_id);
CREATE INDEX events_grant ON events (grant_id);

-- The store offers no way to change or remove an event; these triggers stop
-- other code that opens the file from doing it by accident. They do not stop
-- someone who drops them first, which is why package audit hash-chains the
-- events.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TABLE credentials (
    id         INTEGER PRIMARY KEY,
    grant_id   INTEGER NOT NULL REFERENCES grants (id),
    kind       TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    created_at INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER
) STRICT;

CREATE INDEX credentials_grant ON credentials (grant_id);
CREATE INDEX credentials_state ON credentials (state);
CREATE INDEX credentials_target ON credentials (target);

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    endpoint   TEXT    NOT NULL,
    event_type TEXT    NOT NULL,
    payload    BLOB,
    attempts   INTEGER NOT NULL,
    next_at    INTEGER,
    created_at INTEGER,
    last_error TEXT    NOT NULL
) STRICT;

CREATE INDEX outbox_next ON outbox (next_at);
