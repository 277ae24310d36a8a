-- etcd's membership store: the members MemberAdd recorded, and the IDs
-- MemberRemove removed (removed = 1), which etcd never lets back in. data
-- is the member as etcd's API shows it (etcdserverpb.Member: ID, name,
-- peer URLs, client URLs, learner flag). The serving member itself is not
-- a row unless MemberUpdate changed its peer URLs.
CREATE TABLE strata_member (
	id BIGINT NOT NULL PRIMARY KEY,
	removed SMALLINT NOT NULL,
	data {{.Blob}} NOT NULL
);
