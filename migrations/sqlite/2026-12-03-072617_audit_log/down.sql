CREATE TABLE audit_events_new (
    id TEXT PRIMARY KEY,
    action TEXT NOT NULL CHECK (action IN ('rights_requested', 'rights_confirmed', 'rights_dismissed', 'rights_erased', 'retention_erased', 'settings_changed', 'org_created', 'org_suspended', 'org_reactivated')),
    actor TEXT NOT NULL CHECK (actor IN ('consumer', 'admin', 'system')),
    user_id TEXT REFERENCES users (id),
    address TEXT,
    request_id TEXT,
    leads INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    org_id TEXT REFERENCES organisations (id),
    detail TEXT
);
INSERT INTO audit_events_new (id, action, actor, user_id, address, request_id, leads, created_at, org_id, detail)
    SELECT id, action, actor, user_id, address, request_id, leads, created_at, org_id, detail FROM audit_events
    WHERE action IN ('rights_requested', 'rights_confirmed', 'rights_dismissed', 'rights_erased', 'retention_erased', 'settings_changed', 'org_created', 'org_suspended', 'org_reactivated') AND actor IN ('consumer', 'admin', 'system');
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_events_time_idx ON audit_events (created_at);
CREATE INDEX audit_events_org_idx ON audit_events (org_id, created_at);
