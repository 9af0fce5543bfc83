-- The member view shows when SF delivered the returned key (issue 14), SQLite. Forward-only; matching
-- number in ../postgres/. The courier's delivery instant (orders.courier_delivered_at, migration 0010)
-- joins the view as delivered_at: the member page says 已签收 and asks the member to confirm receipt.

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
       (SELECT i.number FROM invoices i WHERE i.order_id = o.id) AS invoice_number,
       o.courier_delivered_at AS delivered_at
FROM orders o;
