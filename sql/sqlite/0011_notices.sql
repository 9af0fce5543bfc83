-- Notices to the member (issue 14), SQLite. Forward-only; matching number in ../postgres/.
--
-- The outbox: one row per (order, event, channel), written in the same transaction as the change it
-- announces (the store's audit write), so a change and its notice are committed together or not at
-- all. `occurrence` tells apart events of one kind that may happen more than once on an order (each
-- hold is its own event; received, renewed, shipped, … happen once and leave it empty); the unique key
-- makes an event written twice yield one notice per channel. The worker leases due rows by moving
-- next_attempt_at forward (as the print queue does), so two workers never send one twice.
--
-- state: pending (due at next_attempt_at), sent, failed (given up: attempts exhausted or refused for
-- good), skipped (channel off, member opted out, no address; last_error says which).

CREATE TABLE notices (
    id                  INTEGER PRIMARY KEY,
    order_id            INTEGER NOT NULL REFERENCES orders (id),
    kind                TEXT    NOT NULL CHECK (kind IN ('received', 'on_hold', 'renewed', 'shipped',
                                                         'invoice_issued', 'delivered', 'auto_completed')),
    occurrence          TEXT    NOT NULL DEFAULT '',
    channel             TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    hold_reason         TEXT,
    created_at          TEXT    NOT NULL,
    state               TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TEXT    NOT NULL,
    last_error          TEXT,
    sent_at             TEXT,
    provider_message_id TEXT,
    UNIQUE (order_id, kind, occurrence, channel)
);

CREATE INDEX notices_due ON notices (state, next_attempt_at);
CREATE INDEX notices_order ON notices (order_id);

-- A member's opt-out per order and channel, set from the member page (退订短信 / 退订邮件).
CREATE TABLE notice_optouts (
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    channel    TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    created_at TEXT    NOT NULL,
    PRIMARY KEY (order_id, channel)
);
