-- The platform settings an admin edits on /admin/settings: one row, absent until the
-- first save (until then the environment gives every value). `version` goes up with
-- each save, so every `serve` process sees a change with one cheap read.
CREATE TABLE platform_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    return_window_days INTEGER NOT NULL,
    return_cap_bp INTEGER NOT NULL,
    dispute_answer_days INTEGER NOT NULL,
    commission_bp INTEGER NOT NULL,
    dedup_days INTEGER NOT NULL,
    quality_suspend_bp INTEGER NOT NULL,
    quality_min_sales INTEGER NOT NULL,
    invoice_due_days INTEGER NOT NULL,
    tax_rate_bp INTEGER NOT NULL,
    version BIGINT NOT NULL,
    updated_by TEXT REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);

-- The audit log now records admin work beyond personal data: which organisation it
-- concerned and what changed (before and after, never a contact).
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN ('rights_requested', 'rights_confirmed', 'rights_dismissed', 'rights_erased', 'retention_erased', 'settings_changed', 'org_created', 'org_suspended', 'org_reactivated'));
ALTER TABLE audit_events ADD COLUMN org_id TEXT REFERENCES organisations (id);
ALTER TABLE audit_events ADD COLUMN detail TEXT;
CREATE INDEX audit_events_org_idx ON audit_events (org_id, created_at);
