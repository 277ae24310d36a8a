-- etcd's auth store: users, roles, the enabled flag, the auth revision and
-- the simple tokens issued.

-- auth_enabled is 0 or 1; auth_revision is etcd's auth revision (a fresh
-- etcd starts at 1, and every change of a user or role adds one);
-- auth_token_index numbers the simple tokens, as etcd numbers them with
-- the raft index.
INSERT INTO strata_meta (name, value) VALUES ('auth_enabled', 0);
INSERT INTO strata_meta (name, value) VALUES ('auth_revision', 1);
INSERT INTO strata_meta (name, value) VALUES ('auth_token_index', 0);

-- Users and roles, each the protobuf record etcd keeps in its auth buckets
-- (authpb.User: name, bcrypt hash, roles, options; authpb.Role: name,
-- permissions in etcd's order), keyed by name.
CREATE TABLE strata_auth_user (
	name {{.Key}} NOT NULL PRIMARY KEY,
	data {{.Blob}} NOT NULL
) {{.TableOptions}};
CREATE TABLE strata_auth_role (
	name {{.Key}} NOT NULL PRIMARY KEY,
	data {{.Blob}} NOT NULL
) {{.TableOptions}};

-- Simple tokens, so that every process sharing the database accepts a
-- token any of them issued. expires_at is wall-clock milliseconds on the
-- database's clock (0: not clocked yet), kept by use of the token; it is
-- never read by the deterministic apply path.
CREATE TABLE strata_auth_token (
	token {{.Key}} NOT NULL PRIMARY KEY,
	name {{.Key}} NOT NULL,
	expires_at BIGINT NOT NULL
) {{.TableOptions}};
CREATE INDEX strata_auth_token_name ON strata_auth_token (name);
CREATE INDEX strata_auth_token_expires ON strata_auth_token (expires_at);
