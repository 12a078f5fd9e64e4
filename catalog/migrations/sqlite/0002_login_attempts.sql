-- Login throttling (see src/login_throttle.rs): one row per login attempt and throttle key,
-- kept while the attempt is in flight and, if it failed, until it leaves the window.
-- Keys are SHA-256 hex of "account:<lowercased email>" or "address:<client ip>", so the
-- table holds neither emails nor addresses in clear. Rows older than the window are swept
-- on every attempt. Times are RFC 3339 UTC text.

CREATE TABLE login_attempts (
    attempt_id   TEXT NOT NULL,
    throttle_key TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (attempt_id, throttle_key)
);
CREATE INDEX login_attempts_key ON login_attempts (throttle_key, at);
CREATE INDEX login_attempts_at ON login_attempts (at);
