-- The lease expirer finds due leases through this index: the cost of a
-- check is the leases due, never a scan of all leases.
CREATE INDEX strata_lease_expires ON strata_lease (expires_at);
