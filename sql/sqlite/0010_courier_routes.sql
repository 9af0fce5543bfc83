-- SF route events (issue 14), SQLite. Forward-only; matching number in ../postgres/.
--
-- Every route event SF pushed (or the route query returned) is kept once, by SF's route `id`, with
-- the raw push body or query answer it came in. `direction` and `order_id` say which order's waybill
-- it is (inbound: the member's parcel to the desk; outbound: the renewed key back); both are NULL for
-- a waybill the desk does not know (stored, acknowledged, applied to nothing).
--
-- The order keeps the two courier instants its clocks and screens need: when SF picked up the return
-- parcel (op 50, the earliest one) and when SF delivered it (op 80, the earliest one). Events may come
-- in any order; the store keeps the earliest instant of each.

CREATE TABLE route_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    route_id       TEXT    NOT NULL UNIQUE,
    waybill        TEXT    NOT NULL,
    op_code        TEXT    NOT NULL,
    accept_time    TEXT    NOT NULL,
    accept_address TEXT    NOT NULL,
    remark         TEXT    NOT NULL,
    reason_code    TEXT    NOT NULL,
    sf_order_id    TEXT    NOT NULL,
    direction      TEXT    CHECK (direction IN ('inbound', 'outbound')),
    order_id       INTEGER REFERENCES orders (id),
    source         TEXT    NOT NULL CHECK (source IN ('push', 'poll')),
    raw            TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL
);
CREATE INDEX route_events_waybill ON route_events (waybill);
CREATE INDEX route_events_order ON route_events (order_id);

ALTER TABLE orders ADD COLUMN courier_picked_up_at TEXT;
ALTER TABLE orders ADD COLUMN courier_delivered_at TEXT;
