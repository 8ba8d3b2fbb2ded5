#!/usr/bin/env bash
# Installs what the tests drive besides Go, when it is missing: Chromium
# (browser tests), mosquitto-clients (external-client tests), the mosquitto
# broker (the --upstream test and the benchmark's comparison), Python paho
# (python3-paho-mqtt, interop tests), tshark (pcapng export checks), tcpdump
# (captures opened on /replay), node/npm (MQTT.js interop tests, the
# TypeScript type check) and hugo and mkdocs (the docs examples, built by
# their browser test). Debian and Ubuntu only (apt-get); it uses sudo when
# not run as root. `./task test` runs it before `go test ./...`; with
# everything present it does nothing. (MQTT.js itself is installed by its
# test, with npm ci, into broker/testdata/mqttjs/node_modules.)
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

need=()
have chromium || have chromium-browser || have google-chrome || [ -n "${CHROME:-}" ] || need+=(chromium)
have mosquitto_pub || need+=(mosquitto-clients)
have mosquitto || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
# Debian's paho is for Debian's Python (/usr/bin/python3).
/usr/bin/python3 -c 'import paho.mqtt' >/dev/null 2>&1 || python3 -c 'import paho.mqtt' >/dev/null 2>&1 || need+=(python3-paho-mqtt)
have tshark || need+=(tshark)
have tcpdump || need+=(tcpdump)
have openssl || need+=(openssl)
have npx || need+=(nodejs npm)
have hugo || need+=(hugo)
have mkdocs || need+=(mkdocs)
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
# The tests start mosquitto themselves; Debian's package also starts it as a
# service on port 1883, the playground's own MQTT port: stop that one.
if [[ " ${need[*]} " == *" mosquitto "* ]] && have systemctl && systemctl is-enabled mosquitto.service >/dev/null 2>&1; then
  echo "--- stopping the mosquitto service the package started (it would hold port 1883; the tests start their own)"
  "${as_root[@]}" systemctl disable --now mosquitto.service >/dev/null 2>&1 || true
fi
