DELETE FROM deliveries WHERE event = 'lead.erased';
ALTER TABLE deliveries DROP CONSTRAINT deliveries_purchase_channel_event_key;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_purchase_id_channel_key UNIQUE (purchase_id, channel);
ALTER TABLE deliveries DROP COLUMN event;
DROP TABLE audit_events;
DROP TABLE rights_requests;
