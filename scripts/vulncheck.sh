#!/usr/bin/env bash
# govulncheck on every package, failing on any vulnerability our code
# reaches. It reads the Go vulnerability database from vuln.go.dev; where
# that host cannot be reached (closed build networks), it builds the same
# database from its source, the golang.org/x/vulndb module, which the Go
# module proxy serves.
set -euo pipefail
cd "$(dirname "$0")/.."
govulncheck=(go run golang.org/x/vuln/cmd/govulncheck@v1.10.0)
if curl -fsS --max-time 10 -o /dev/null https://vuln.go.dev/index/db.json.gz 2>/dev/null; then
  exec "${govulncheck[@]}" ./...
fi
echo "vulncheck: vuln.go.dev cannot be reached; building the database from golang.org/x/vulndb@latest"
info=$(go mod download -json golang.org/x/vulndb@latest)
dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$info")
version=$(sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p' <<<"$info")
[ -n "$dir" ] || { echo "vulncheck: could not download golang.org/x/vulndb" >&2; exit 1; }
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
(cd "$dir" && GOFLAGS=-mod=mod go run ./cmd/indexdb -vulns data/osv -out "$db")
echo "vulncheck: database of $(ls "$db"/ID/*.json | wc -l) reports from golang.org/x/vulndb $version"
"${govulncheck[@]}" -db "file://$db" ./...
