-- The member endpoint (`keydesk serve`), SQLite. Forward-only; matching number in ../postgres/.
--
-- SQLite has no roles: the endpoint reads through a read-only connection (and only this view), and
-- writes only in its two member actions (inbound waybill, confirm receipt) through a separate
-- connection. See ../postgres/0002_member.sql for the role and grants on PostgreSQL.

-- Issued invoices: the stored document a member downloads. Kept minimal on purpose; invoicing fills it.
CREATE TABLE invoices (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL UNIQUE REFERENCES orders (id),
    number     TEXT    NOT NULL UNIQUE,
    pdf        BLOB    NOT NULL,
    sha256     TEXT    NOT NULL,
    issued_at  TEXT    NOT NULL
);

-- What a member may see of an order: no ID number, no scans, no bank details, no street address;
-- the name and phone already masked (秦**, 188****6015). The phone tail is here only to be compared.
CREATE VIEW member_orders AS
SELECT o.id, o.version, o.order_no, o.kind, o.status, o.hold_reason, o.invoice_status, o.created_at, o.paid_at,
       o.phone_tail,
       substr(o.holder_name, 1, 1) || substr('********************', 1, max(length(o.holder_name) - 1, 0)) AS holder_masked,
       CASE WHEN length(o.contact_phone) = 11 AND o.contact_phone NOT GLOB '*[^0-9]*'
            THEN substr(o.contact_phone, 1, 3) || '****' || o.phone_tail
            ELSE '****' || o.phone_tail END AS phone_masked,
       o.ship_region, o.inbound_carrier, o.inbound_waybill_raw, o.received_at, o.outbound_waybill, o.shipped_at,
       (SELECT max(a.at) FROM audit_log a WHERE a.order_id = o.id AND a.to_status = 'renewing') AS renewing_at,
       (SELECT max(a.at) FROM audit_log a WHERE a.order_id = o.id AND a.to_status = 'renewed') AS renewed_at,
       (SELECT max(a.at) FROM audit_log a WHERE a.order_id = o.id AND a.to_status = 'completed') AS completed_at,
       (SELECT i.number FROM invoices i WHERE i.order_id = o.id) AS invoice_number
FROM orders o;
