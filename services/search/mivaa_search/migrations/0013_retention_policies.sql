-- Each tenant's retention policy: documents created longer ago than max_age_seconds are deleted
-- by search's retention sweep. No row: the tenant keeps its documents until it deletes them.
CREATE TABLE retention_policies (
    tenant          text        PRIMARY KEY,
    max_age_seconds bigint      NOT NULL CHECK (max_age_seconds > 0),
    update_time     timestamptz NOT NULL DEFAULT now()
);
