DROP INDEX audit_events_org_idx;
DELETE FROM audit_events WHERE action NOT IN ('rights_requested', 'rights_confirmed', 'rights_dismissed', 'rights_erased', 'retention_erased');
ALTER TABLE audit_events DROP COLUMN detail;
ALTER TABLE audit_events DROP COLUMN org_id;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN ('rights_requested', 'rights_confirmed', 'rights_dismissed', 'rights_erased', 'retention_erased'));
DROP TABLE platform_settings;
