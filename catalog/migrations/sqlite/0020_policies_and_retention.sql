-- An institute's privacy policy, versioned: publishing a text makes it the next version,
-- which every person of the institute accepts before they watch again (issue 7).
CREATE TABLE privacy_policies (
    institute_id TEXT NOT NULL REFERENCES institutes (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (institute_id, version)
);

-- Which version of their institute's policy a person accepted, and when.
CREATE TABLE policy_acceptances (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    accepted_at TEXT NOT NULL,
    PRIMARY KEY (user_id, version)
);

-- How many days the institute keeps its audit log; NULL keeps it for good.
ALTER TABLE institutes ADD COLUMN audit_retention_days INTEGER;
