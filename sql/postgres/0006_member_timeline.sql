-- The member timeline's times kept on the order (issue 7), PostgreSQL. Forward-only; matching number
-- in ../sqlite/.
--
-- The member view used to find when an order became renewing, renewed and completed by searching the
-- audit log on every lookup (a third of a lookup's time). The audit log stays the record; a trigger
-- now copies those three moments onto the order as each audit row is written (the latest one wins, as
-- max() did), so a lookup reads one row. The trigger function runs as its owner (SECURITY DEFINER,
-- with this schema's search path), so the member role's audit rows (确认收货) stamp the order without
-- that role being allowed to write these columns itself.

ALTER TABLE orders ADD COLUMN renewing_at TIMESTAMPTZ,
                   ADD COLUMN renewed_at TIMESTAMPTZ,
                   ADD COLUMN completed_at TIMESTAMPTZ;

UPDATE orders o SET
    renewing_at  = (SELECT max(a.at) FROM audit_log a WHERE a.order_id = o.id AND a.to_status = 'renewing'),
    renewed_at   = (SELECT max(a.at) FROM audit_log a WHERE a.order_id = o.id AND a.to_status = 'renewed'),
    completed_at = (SELECT max(a.at) FROM audit_log a WHERE a.order_id = o.id AND a.to_status = 'completed')
WHERE o.id IN (SELECT order_id FROM audit_log WHERE to_status IN ('renewing', 'renewed', 'completed'));

CREATE FUNCTION keydesk_stamp_milestone() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE orders SET
        renewing_at  = CASE WHEN NEW.to_status = 'renewing'  THEN GREATEST(renewing_at, NEW.at)  ELSE renewing_at END,
        renewed_at   = CASE WHEN NEW.to_status = 'renewed'   THEN GREATEST(renewed_at, NEW.at)   ELSE renewed_at END,
        completed_at = CASE WHEN NEW.to_status = 'completed' THEN GREATEST(completed_at, NEW.at) ELSE completed_at END
    WHERE id = NEW.order_id;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION keydesk_stamp_milestone() FROM PUBLIC;

CREATE TRIGGER audit_log_milestones AFTER INSERT ON audit_log FOR EACH ROW
    WHEN (NEW.order_id IS NOT NULL AND NEW.to_status IN ('renewing', 'renewed', 'completed'))
    EXECUTE FUNCTION keydesk_stamp_milestone();

-- Same columns, same names and types: the grants on the view stay.
CREATE OR REPLACE VIEW member_orders AS
SELECT o.id, o.version, o.order_no, o.kind, o.status, o.hold_reason, o.invoice_status, o.created_at, o.paid_at,
       o.phone_tail,
       left(o.holder_name, 1) || repeat('*', greatest(char_length(o.holder_name) - 1, 0)) AS holder_masked,
       CASE WHEN o.contact_phone ~ '^[0-9]{11}$'
            THEN left(o.contact_phone, 3) || '****' || o.phone_tail
            ELSE '****' || o.phone_tail END AS phone_masked,
       o.ship_region, o.inbound_carrier, o.inbound_waybill_raw, o.received_at, o.outbound_waybill, o.shipped_at,
       o.renewing_at, o.renewed_at, o.completed_at,
       (SELECT i.number FROM invoices i WHERE i.order_id = o.id) AS invoice_number
FROM orders o;
