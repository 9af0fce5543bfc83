-- Other desks' changes, pushed (issue 6), PostgreSQL only. Forward-only. SQLite has no counterpart:
-- the desk polls the audit log there, so ../sqlite has no 0007.
--
-- Every change to an order writes an audit row in the same transaction, so one trigger on the audit
-- log tells every listening desk (LISTEN keydesk_changes) when it commits. The payload is the order
-- id (empty for actions on no order); PostgreSQL folds identical notifications of one transaction.

CREATE FUNCTION keydesk_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('keydesk_changes', COALESCE(NEW.order_id::text, ''));
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_log_notify AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION keydesk_notify_change();
