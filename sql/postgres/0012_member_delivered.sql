-- The member view shows when SF delivered the returned key (issue 14), PostgreSQL. Forward-only;
-- matching number in ../sqlite/. The courier's delivery instant (orders.courier_delivered_at, migration
-- 0010) joins the view as delivered_at (a new last column: CREATE OR REPLACE keeps the grants).

CREATE OR REPLACE VIEW member_orders AS
SELECT o.id, o.version, o.order_no, o.kind, o.status, o.hold_reason, o.invoice_status, o.created_at, o.paid_at,
       o.phone_tail,
       left(o.holder_name, 1) || repeat('*', greatest(char_length(o.holder_name) - 1, 0)) AS holder_masked,
       CASE WHEN o.contact_phone ~ '^[0-9]{11}$'
            THEN left(o.contact_phone, 3) || '****' || o.phone_tail
            ELSE '****' || o.phone_tail END AS phone_masked,
       o.ship_region, o.inbound_carrier, o.inbound_waybill_raw, o.received_at, o.outbound_waybill, o.shipped_at,
       o.renewing_at, o.renewed_at, o.completed_at,
       (SELECT i.number FROM invoices i WHERE i.order_id = o.id) AS invoice_number,
       o.courier_delivered_at AS delivered_at
FROM orders o;
