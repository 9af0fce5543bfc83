-- Why an order was put on hold, on the audit row of the hold itself (issue 15), PostgreSQL. Forward-only;
-- matching number in ../sqlite/.
--
-- The order keeps only its current hold's reason (orders.hold_reason), and the hold's audit row says
-- what the operator typed (or the reason's label when nothing was typed), so once released, the reason
-- of a past hold was lost. The manager's report counts holds and their paused working time by reason,
-- so every move into on_hold now records the reason's code here (NULL on every other row).
--
-- Rows written before this migration are filled where the reason is certain: a parcel received for
-- an unpaid order (always unpaid_parcel), a hold whose text is exactly a reason's label (nothing was
-- typed), and the hold an order is still in (the order says why). Others stay NULL (原因未记录).

ALTER TABLE audit_log ADD COLUMN hold_reason TEXT;

UPDATE audit_log SET hold_reason = 'unpaid_parcel' WHERE action = 'intake_unpaid';

UPDATE audit_log SET hold_reason = CASE reason
    WHEN '寄来的 KEY 与订单不符' THEN 'wrong_key'
    WHEN 'PIN 已锁定' THEN 'pin_locked'
    WHEN 'PIN 未知或最后一次尝试' THEN 'pin_unknown'
    WHEN '办理人资料缺失或未审核' THEN 'documents_missing'
    WHEN '已收件但订单未支付' THEN 'unpaid_parcel'
    WHEN '证书不在可续签期内' THEN 'not_renewable'
    WHEN '续签失败' THEN 'renewal_failed'
    WHEN '收货地址待确认' THEN 'address_change'
    WHEN '其他' THEN 'other'
END
WHERE hold_reason IS NULL AND to_status = 'on_hold' AND (from_status IS NULL OR from_status <> 'on_hold');

UPDATE audit_log SET hold_reason = (SELECT o.hold_reason FROM orders o WHERE o.id = audit_log.order_id)
WHERE hold_reason IS NULL
  AND id IN (SELECT MAX(a.id) FROM audit_log a JOIN orders o ON o.id = a.order_id
             WHERE o.status = 'on_hold' AND a.to_status = 'on_hold' AND (a.from_status IS NULL OR a.from_status <> 'on_hold')
             GROUP BY a.order_id);
