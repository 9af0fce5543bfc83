-- The member timeline's times kept on the order (issue 7), SQLite. Forward-only; matching number in
-- ../postgres/.
--
-- The member view used to find when an order became renewing, renewed and completed by searching the
-- audit log on every lookup. The audit log stays the record; a trigger now copies those three moments
-- onto the order as each audit row is written (the latest one wins, as max() did), so a lookup reads
-- one row. Times are UTC RFC 3339 text, which sorts as it reads.

ALTER TABLE orders ADD COLUMN renewing_at TEXT;
ALTER TABLE orders ADD COLUMN renewed_at TEXT;
ALTER TABLE orders ADD COLUMN completed_at TEXT;

UPDATE orders SET
    renewing_at  = (SELECT max(a.at) FROM audit_log a WHERE a.order_id = orders.id AND a.to_status = 'renewing'),
    renewed_at   = (SELECT max(a.at) FROM audit_log a WHERE a.order_id = orders.id AND a.to_status = 'renewed'),
    completed_at = (SELECT max(a.at) FROM audit_log a WHERE a.order_id = orders.id AND a.to_status = 'completed')
WHERE id IN (SELECT order_id FROM audit_log WHERE to_status IN ('renewing', 'renewed', 'completed'));

CREATE TRIGGER audit_log_milestones AFTER INSERT ON audit_log
WHEN NEW.order_id IS NOT NULL AND NEW.to_status IN ('renewing', 'renewed', 'completed')
BEGIN
    UPDATE orders SET
        renewing_at  = CASE WHEN NEW.to_status = 'renewing'  AND (renewing_at  IS NULL OR renewing_at  < NEW.at) THEN NEW.at ELSE renewing_at END,
        renewed_at   = CASE WHEN NEW.to_status = 'renewed'   AND (renewed_at   IS NULL OR renewed_at   < NEW.at) THEN NEW.at ELSE renewed_at END,
        completed_at = CASE WHEN NEW.to_status = 'completed' AND (completed_at IS NULL OR completed_at < NEW.at) THEN NEW.at ELSE completed_at END
    WHERE id = NEW.order_id;
END;

DROP VIEW member_orders;
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
       o.renewing_at, o.renewed_at, o.completed_at,
       (SELECT i.number FROM invoices i WHERE i.order_id = o.id) AS invoice_number
FROM orders o;
