#!/usr/bin/env bash
# Lectern's catalog benchmark: seeds 10 000 courses, 1 000 000 enrolments and 200 000 lectures
# into SQLite and into a throwaway PostgreSQL cluster, then, through the catalog's real HTTP
# API on a loopback port, times students' "my courses" and "lectures of a course" (p50, p99)
# and loads authorised media playlists with wrk beside nginx serving the same bytes as static
# files. Prints a table of the figures against their targets (MISSED where one is missed);
# exits non-zero only when something failed. Installs what is missing first (nginx-light,
# wrk, postgresql; as root or with sudo).
#
#   catalog/bench/catalog.sh [OPTIONS]        (--help lists them: sizes, samples, wrk load,
#                                              --database sqlite|postgres, --keep, …)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

say() { printf '\033[1m%s\033[0m\n' "$*" >&2; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "installing packages needs root: run as root or install sudo" >&2; exit 1
  fi
}

# Another nginx flavour or a PostgreSQL of another version serves as well as ours.
missing=()
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "cargo is missing: install the Rust toolchain" >&2; exit 1; }

say "Building the catalog benchmark (release)…"
cargo build --release --quiet -p lectern-catalog --example catalog-bench --manifest-path "$ROOT/Cargo.toml"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
exec "$TARGET/release/examples/catalog-bench" "$@"
