-- Documents (issue 5), SQLite: invoice numbers and the durable print queue. Forward-only; matching
-- number in ../postgres/.

-- Counters that hand out numbers: a row is only ever incremented, inside the transaction that uses
-- the number, so a number is never handed out twice.
CREATE TABLE counters (
    name   TEXT    PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('invoice', 0);

-- The print queue: a job is written before anything is sent to a printer, so a restart loses nothing.
CREATE TABLE print_jobs (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders (id),
    kind             TEXT    NOT NULL CHECK (kind IN ('label', 'invoice')),
    printer          TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    pdf              BLOB    NOT NULL,
    media            TEXT,
    reprint          INTEGER NOT NULL DEFAULT 0,
    state            TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT    NOT NULL,
    last_error       TEXT,
    operator         TEXT    NOT NULL,
    desk             TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    printed_at       TEXT
);
CREATE INDEX print_jobs_due ON print_jobs (state, next_attempt_at);
CREATE INDEX print_jobs_order ON print_jobs (order_id, kind);
