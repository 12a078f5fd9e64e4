#!/usr/bin/env bash
# Schemathesis against the catalog's own OpenAPI document (issue 3: bad input never gives a
# 500). Starts the built `lectern-catalog` on SQLite in a temporary directory, on a free
# loopback port, with the demo seeded; signs the demo admin in; then lets schemathesis
# generate requests for every `/api/v1` operation, authenticated through the document's
# security schemes (session cookie, the demo box's and the demo worker's bearer tokens),
# and checks that no answer is a 5xx and that every answer matches the documented schema
# (every error answer included: the document gives each operation a `default` ErrorBody).
#
# Needs `./lectern setup` (the virtualenv with schemathesis) and `./lectern build`.
# Environment: LECTERN_SCHEMATHESIS_EXAMPLES (cases per operation and phase, default 100),
# LECTERN_SCHEMATHESIS_SEED (default 3), LECTERN_TEST_CATALOG_BIN (the binary: not a
# LECTERN_CATALOG_ name, which the catalog would read as a setting; default
# $CARGO_TARGET_DIR/debug/lectern-catalog, CARGO_TARGET_DIR defaulting to target).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
BIN=${LECTERN_TEST_CATALOG_BIN:-$TARGET/debug/lectern-catalog}
SCHEMATHESIS=$ROOT/.lectern/venv/bin/schemathesis
EXAMPLES=${LECTERN_SCHEMATHESIS_EXAMPLES:-100}
SEED=${LECTERN_SCHEMATHESIS_SEED:-3}

die() { printf 'schemathesis.sh: %s\n' "$*" >&2; exit 1; }
[ -x "$BIN" ] || die "$BIN is not built: run ./lectern build"
[ -x "$SCHEMATHESIS" ] || die "$SCHEMATHESIS is missing: run ./lectern setup"

WORK=$(mktemp -d)
CATALOG_PID=""
cleanup() {
  if [ -n "$CATALOG_PID" ]; then
    kill "$CATALOG_PID" 2>/dev/null || true
    wait "$CATALOG_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
AGENT_TOKEN=$(random_hex 32)
WORKER_TOKEN=$(random_hex 32)

: >"$WORK/catalog.log"
# Port 0: the kernel picks a free port, and the catalog logs the one it got.
NO_COLOR=1 RUST_LOG=info,sqlx=warn \
LECTERN_CATALOG_LISTEN=127.0.0.1:0 \
LECTERN_CATALOG_DATABASE_URL="sqlite://$WORK/catalog.db?mode=rwc" \
LECTERN_CATALOG_STORAGE_DIR=$WORK/storage \
LECTERN_CATALOG_MEDIA_KEY=$(random_hex 32) \
LECTERN_CATALOG_DEMO__SEED=true \
LECTERN_CATALOG_DEMO__AGENT_TOKEN=$AGENT_TOKEN \
LECTERN_CATALOG_DEMO__WORKER_TOKEN=$WORKER_TOKEN \
  "$BIN" >"$WORK/catalog.log" 2>&1 &
CATALOG_PID=$!

URL=""
for _ in $(seq 1 300); do
  URL=$(sed -n 's/.*catalog listening address=\([0-9.:]*\).*/http:\/\/\1/p' "$WORK/catalog.log")
  [ -n "$URL" ] && break
  kill -0 "$CATALOG_PID" 2>/dev/null || { cat "$WORK/catalog.log" >&2; die "the catalog did not start"; }
  sleep 0.1
done
[ -n "$URL" ] || { cat "$WORK/catalog.log" >&2; die "the catalog did not say where it listens"; }

# A session of the demo admin (`-c` writes the cookie jar; its last field is the value).
login() {
  curl -fsS -c "$WORK/jar" -o /dev/null -H 'content-type: application/json' \
    -d "{\"email\": \"$1\", \"password\": \"lectern-demo\"}" "$URL/api/v1/auth/login"
  awk '$6 == "lectern_session" { print $7 }' "$WORK/jar"
}
SESSION=$(login admin@demo.lectern.test)
[ -n "$SESSION" ] || die "no session cookie from the login"

# Real ids, so that requests get past the 404 for unknown ids: a capturing lecture of the
# demo room (the box starts it, the worker reports a segment of it, so it plays) and its
# course. The worker registers first: it reports only on the lectures whose live session it
# runs.
post_json() {
  curl -fsS -H "authorization: Bearer $1" -H 'content-type: application/json' -d "$3" "$URL$2"
}
post_json "$WORKER_TOKEN" /api/v1/worker/register '{"srt_host": "127.0.0.1", "srt_ports": [9000, 9009]}'
LECTURE=$(post_json "$AGENT_TOKEN" /api/v1/agent/recordings '{"tracks": ["presenter"]}' |
  sed -n 's/.*"lecture_id":"\([^"]*\)".*/\1/p')
post_json "$WORKER_TOKEN" "/api/v1/worker/lectures/$LECTURE/renditions" '{"track": "presenter",
  "rung": "720p", "width": 1280, "height": 720, "bandwidth": 3000000, "codecs": "avc1.64001f",
  "frame_rate": 30.0}'
post_json "$WORKER_TOKEN" "/api/v1/worker/lectures/$LECTURE/segments" '{"track": "presenter",
  "rung": "720p", "sequence": 0, "duration": 2.0, "program_date_time": "2026-11-24T09:00:00Z",
  "discontinuity": false, "bytes": 10}' 
COURSE=$(curl -fsS -b "lectern_session=$SESSION" "$URL/api/v1/courses" |
  sed -n 's/^\[{"id":"\([^"]*\)".*/\1/p')
# A resumable upload of the admin's, so PATCH, HEAD and DELETE get past the 404 too.
UPLOAD=$(curl -fsS -X POST -b "lectern_session=$SESSION" -H 'tus-resumable: 1.0.0' \
  -H 'upload-length: 1000000' "$URL/api/v1/courses/$COURSE/uploads/resumable" |
  sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[ -n "$LECTURE" ] && [ -n "$COURSE" ] && [ -n "$UPLOAD" ] ||
  die "could not make the test data (lecture '$LECTURE', course '$COURSE', upload '$UPLOAD')"

# Ids, tracks and rungs come from these dictionaries half of the time, and are generated
# the other half (the 404 and 400 paths).
write_config() {
  cat >"$WORK/schemathesis.toml" <<EOF
[auth.openapi.session]
api_key = "$1"
[auth.openapi.agent_token]
bearer = "$AGENT_TOKEN"
[auth.openapi.worker_token]
bearer = "$WORKER_TOKEN"

[dictionaries.ids]
values = ["$LECTURE", "$COURSE", "$UPLOAD"]
[dictionaries.names]
values = ["presenter", "screen", "720p", "360p"]

[parameters]
"path.id" = { dictionary = "ids", probability = 0.5 }
"path.track" = { dictionary = "names", probability = 0.5 }
"body.track" = { dictionary = "names", probability = 0.5 }
"body.rung" = { dictionary = "names", probability = 0.5 }
"body.tracks[*]" = { dictionary = "names", probability = 0.5 }
EOF
}

# The raw chunk upload's body (video/mp2t) and a resumable upload's PATCH body
# (application/offset+octet-stream) are bytes: a hook registers a strategy for them.
export PYTHONPATH=$ROOT/catalog/tests${PYTHONPATH:+:$PYTHONPATH}
export SCHEMATHESIS_HOOKS=schemathesis_hooks

run() {
  # From the temporary directory, where schemathesis leaves its caches.
  (cd "$WORK" && "$SCHEMATHESIS" --no-color --config-file "$WORK/schemathesis.toml" run "$URL/api/v1/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$EXAMPLES" --seed "$SEED" --generation-database none \
    --suppress-health-check filter_too_much,too_slow \
    "$@")
}

status=0
write_config "$SESSION"
# Logout ends the session every other operation runs with: it goes last, on its own session.
run --exclude-operation-id logout || status=$?
write_config "$(login student@demo.lectern.test)"
run --include-operation-id logout || status=$?

# A 5xx answers schemathesis, but a panic that drops the connection might not read as one.
if grep -qE ' ERROR |panicked' "$WORK/catalog.log"; then
  grep -E ' ERROR |panicked' "$WORK/catalog.log" >&2
  status=1
fi
if [ "$status" != 0 ]; then
  echo "--- catalog log ---" >&2
  tail -n 50 "$WORK/catalog.log" >&2
fi
exit "$status"
