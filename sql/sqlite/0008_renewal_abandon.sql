-- A renewal job ended on purpose (放弃续签, issue 12), SQLite. Forward-only; matching number in
-- ../postgres/.
--
-- A job whose re-run keeps failing the same check (a CA that answers with the wrong validity, a key
-- that cannot finish) is ended by the operator with a reason: the job's objects are removed from the
-- key, the old certificate stays, and a new job may start. The job's state becomes 'done' (ended; the
-- CHECK on renewal_jobs.state cannot change in SQLite without rebuilding the table), and this row says
-- it was abandoned rather than renewed. A certificate the CA issued for the job stays in
-- issued_certificates, named here as issued and unused (to be revoked at the CA), never forgotten.

CREATE TABLE renewal_abandonments (
    job_id                INTEGER PRIMARY KEY REFERENCES renewal_jobs (id),
    reason                TEXT    NOT NULL,
    -- What was done on the key: objects removed, or why nothing could be (no key in the reader).
    key_cleanup           TEXT    NOT NULL,
    -- The certificate issued for the job and never used, if the CA had issued one.
    unused_certificate_id INTEGER REFERENCES issued_certificates (id),
    operator              TEXT    NOT NULL,
    desk                  TEXT    NOT NULL,
    at                    TEXT    NOT NULL
);
