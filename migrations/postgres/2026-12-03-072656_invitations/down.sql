DROP INDEX invitations_email_idx;
DROP INDEX invitations_organisation_idx;
DROP TABLE invitations;
