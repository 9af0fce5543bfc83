-- The return shipment booked with the courier (SF's open platform): its routing data for the label,
-- as JSON (`dest_route_label`, `two_dimension_code`, `product_name`). Forward-only.
ALTER TABLE orders ADD COLUMN outbound_route TEXT;
