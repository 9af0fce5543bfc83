-- keydesk schema, SQLite. Forward-only: never edit an applied migration; add the next number.
-- Matching version numbers live in ../postgres/.

CREATE TABLE operators (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT    NOT NULL
);

CREATE TABLE orders (
    id                     INTEGER PRIMARY KEY,
    version                INTEGER NOT NULL DEFAULT 1,
    order_no               TEXT    NOT NULL UNIQUE,
    platform_order_no      TEXT,
    kind                   TEXT    NOT NULL CHECK (kind IN ('mail_back', 'self_service')),
    term_years             INTEGER NOT NULL CHECK (term_years BETWEEN 1 AND 10),
    amount_fen             INTEGER NOT NULL,
    status                 TEXT    NOT NULL,
    hold_reason            TEXT,
    hold_resume_to         TEXT,
    hold_note              TEXT,
    invoice_status         TEXT    NOT NULL DEFAULT 'not_requested',
    created_at             TEXT    NOT NULL,
    paid_at                TEXT,
    docs_approved_at       TEXT,
    account                TEXT    NOT NULL,
    holder_name            TEXT    NOT NULL,
    company                TEXT    NOT NULL,
    contact_phone          TEXT    NOT NULL,
    phone_tail             TEXT    NOT NULL,
    key_serial             TEXT    NOT NULL,
    cert_serial            TEXT    NOT NULL,
    cert_subject           TEXT    NOT NULL,
    cert_not_before        TEXT    NOT NULL,
    cert_not_after         TEXT    NOT NULL,
    cert_seal              TEXT    NOT NULL CHECK (cert_seal IN ('single', 'dual')),
    handler_name           TEXT    NOT NULL,
    handler_phone          TEXT    NOT NULL,
    handler_id_number      TEXT    NOT NULL,
    handler_docs_approved  INTEGER NOT NULL,
    inbound_carrier        TEXT    NOT NULL,
    inbound_waybill_raw    TEXT,
    inbound_waybill        TEXT,
    ship_name              TEXT    NOT NULL,
    ship_phone             TEXT    NOT NULL,
    ship_region            TEXT    NOT NULL,
    ship_address           TEXT    NOT NULL,
    invoice_title          TEXT    NOT NULL,
    invoice_tax_id         TEXT    NOT NULL,
    invoice_bank           TEXT    NOT NULL,
    invoice_bank_account   TEXT    NOT NULL,
    invoice_address        TEXT    NOT NULL,
    invoice_phone          TEXT    NOT NULL,
    invoice_email          TEXT    NOT NULL,
    received_at            TEXT,
    received_by            TEXT,
    outbound_waybill       TEXT,
    shipped_at             TEXT,
    updated_at             TEXT    NOT NULL
);

CREATE INDEX orders_inbound_waybill ON orders (inbound_waybill);
CREATE INDEX orders_outbound_waybill ON orders (outbound_waybill);
CREATE INDEX orders_platform_order_no ON orders (platform_order_no);
CREATE INDEX orders_key_serial ON orders (key_serial);
CREATE INDEX orders_phone_tail ON orders (phone_tail);
CREATE INDEX orders_account ON orders (account);
CREATE INDEX orders_company ON orders (company);
CREATE INDEX orders_holder_name ON orders (holder_name);
CREATE INDEX orders_status ON orders (status, id);

-- One row per key received: a parcel with several keys gives several rows with one waybill.
CREATE TABLE receipts (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    waybill     TEXT    NOT NULL,
    received_at TEXT    NOT NULL,
    operator    TEXT    NOT NULL,
    desk        TEXT    NOT NULL
);
CREATE INDEX receipts_order ON receipts (order_id);
CREATE INDEX receipts_waybill ON receipts (waybill);

-- Parcels no order claims: they wait here until staff match them.
CREATE TABLE unmatched_parcels (
    id          INTEGER PRIMARY KEY,
    raw_scan    TEXT    NOT NULL,
    waybill     TEXT    NOT NULL,
    scanned_at  TEXT    NOT NULL,
    operator    TEXT    NOT NULL,
    desk        TEXT    NOT NULL,
    order_id    INTEGER REFERENCES orders (id),
    resolved_at TEXT
);
CREATE INDEX unmatched_parcels_waybill ON unmatched_parcels (waybill);

-- Every change to an order, by whom and from where.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER REFERENCES orders (id),
    at          TEXT    NOT NULL,
    operator    TEXT    NOT NULL,
    desk        TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    reason      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_order ON audit_log (order_id, id);
CREATE INDEX audit_log_at ON audit_log (at);
