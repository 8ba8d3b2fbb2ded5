#!/usr/bin/env bash
# Installs what the tests drive besides Go, when it is missing: Chromium
# (browser tests), mosquitto-clients (external-client tests), tshark (pcapng
# export checks), tcpdump (captures opened on /replay) and node/npm (the
# TypeScript type check). Debian and Ubuntu only (apt-get); it uses sudo when not run as root. `./task test` runs it
# before `go test ./...`; with everything present it does nothing.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

need=()
have chromium || have chromium-browser || have google-chrome || [ -n "${CHROME:-}" ] || need+=(chromium)
have mosquitto_pub || need+=(mosquitto-clients)
have tshark || need+=(tshark)
have tcpdump || need+=(tcpdump)
have openssl || need+=(openssl)
have npx || need+=(nodejs npm)
[ ${#need[@]} -eq 0 ] && exit 0

if ! have apt-get; then
  echo "install-test-deps: missing ${need[*]}, and this is no Debian/Ubuntu (no apt-get): install them yourself, then run go test ./..." >&2
  exit 1
fi
# As root, or through sudo (which would drop an exported variable).
as_root=(env DEBIAN_FRONTEND=noninteractive)
if [ "$(id -u)" != 0 ]; then
  have sudo || { echo "install-test-deps: missing ${need[*]}: run as root or install sudo" >&2; exit 1; }
  as_root=(sudo "${as_root[@]}")
fi
echo "--- installing ${need[*]}"
# tshark asks whether non-root users may capture; the default (no) is fine.
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${as_root[@]}" debconf-set-selections
"${as_root[@]}" apt-get update -qq
# Ubuntu names the package chromium-browser.
if [[ " ${need[*]} " == *" chromium "* ]] && ! apt-cache show chromium >/dev/null 2>&1; then
  need=("${need[@]/#chromium/chromium-browser}")
fi
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
