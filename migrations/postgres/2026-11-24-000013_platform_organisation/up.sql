-- The platform organisation (admins and finance staff belong to it) exists on every
-- install, so an operator can create the first admin with `user create --org platform`.
INSERT INTO organisations (id, kind, name, slug, status, created_at, billing_address)
SELECT '00000000-0000-4000-8000-000000000001', 'platform', 'Platform', 'platform', 'active',
       CURRENT_TIMESTAMP, ''
WHERE NOT EXISTS (SELECT 1 FROM organisations WHERE slug = 'platform');
