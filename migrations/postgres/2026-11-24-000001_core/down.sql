DROP TABLE leads;
DROP TABLE batches;
DROP TABLE channels;
DROP TABLE segments;
DROP TABLE login_attempts;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE organisations;
