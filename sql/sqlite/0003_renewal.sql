-- Certificate renewal on the member's key (issue 3), SQLite. Matching version in ../postgres/.
--
-- A renewal is a journaled job: every step writes its intent, acts on the token, re-reads it and
-- commits the result, so a re-run after a crash or a pulled key completes the job or cleans up.

CREATE TABLE renewal_jobs (
    id                   INTEGER PRIMARY KEY,
    order_id             INTEGER NOT NULL REFERENCES orders (id),
    key_serial           TEXT    NOT NULL,
    state                TEXT    NOT NULL CHECK (state IN ('running', 'done')),
    -- The last step whose result was committed.
    step                 TEXT    NOT NULL,
    algorithm            TEXT    NOT NULL,
    -- CKA_ID (hex) of the new key pair and certificate, chosen before the key is generated.
    new_key_id           TEXT    NOT NULL,
    old_key_id           TEXT    NOT NULL,
    old_label            TEXT    NOT NULL,
    old_cert_serial      TEXT    NOT NULL,
    old_cert_fingerprint TEXT    NOT NULL,
    old_not_before       TEXT    NOT NULL,
    old_not_after        TEXT    NOT NULL,
    -- Serial and validity of the new certificate, fixed when the job starts so a repeated
    -- request to the CA asks for the same certificate.
    planned_serial       TEXT    NOT NULL,
    planned_not_before   TEXT    NOT NULL,
    planned_not_after    TEXT    NOT NULL,
    -- Digests of every token object the renewal must leave byte for byte (JSON).
    kept_objects         TEXT    NOT NULL,
    public_key           TEXT,
    request_pem          TEXT,
    operator             TEXT    NOT NULL,
    desk                 TEXT    NOT NULL,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL,
    finished_at          TEXT
);
CREATE INDEX renewal_jobs_order ON renewal_jobs (order_id, id);
-- At most one running job per order.
CREATE UNIQUE INDEX renewal_jobs_one_running ON renewal_jobs (order_id) WHERE state = 'running';

CREATE TABLE renewal_journal (
    id         INTEGER PRIMARY KEY,
    job_id     INTEGER NOT NULL REFERENCES renewal_jobs (id),
    step       TEXT    NOT NULL,
    phase      TEXT    NOT NULL CHECK (phase IN ('intent', 'done', 'failed')),
    detail     TEXT    NOT NULL DEFAULT '',
    elapsed_us INTEGER NOT NULL DEFAULT 0,
    token_us   INTEGER NOT NULL DEFAULT 0,
    at         TEXT    NOT NULL
);
CREATE INDEX renewal_journal_job ON renewal_journal (job_id, id);

-- Every certificate the CA issued for a renewal: stored before it is written to the key. One per job.
CREATE TABLE issued_certificates (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL UNIQUE REFERENCES renewal_jobs (id),
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    serial      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    issuer      TEXT    NOT NULL,
    not_before  TEXT    NOT NULL,
    not_after   TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    pem         TEXT    NOT NULL,
    ca_backend  TEXT    NOT NULL,
    issued_at   TEXT    NOT NULL,
    UNIQUE (issuer, serial)
);
CREATE INDEX issued_certificates_order ON issued_certificates (order_id, id);
