#!/usr/bin/env bash
# Installs what the tests need beyond Node and npm: the npm packages (npm ci) and the real peers the tests talk to
# — Mosquitto (a foreign MQTT broker), socat (pseudo-terminal pairs for serial), zbar-tools (a second, independent
# barcode decoder for the rendering tests), tesseract-ocr with German traineddata (the OCR reader of the legibility
# test), and Debian's chromium for the dashboard's browser tests (playwright-core
# drives it at /usr/bin/chromium; playwright never downloads a browser of its own).
# Safe to run again; on a machine where they are present it only runs npm ci.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mosquitto >/dev/null 2>&1 || need+=(mosquitto mosquitto-clients)
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
[ -x /usr/bin/chromium ] || need+=(chromium)
# tesseract with Debian's German traineddata: the independent reader of the legibility test (issue 12).
{ command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx deu; } || need+=(tesseract-ocr tesseract-ocr-deu)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${need[*]} (apt)"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The embedded broker is the default; a system mosquitto service is not wanted on a developer machine or CI.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  echo "setup: note: a system mosquitto service is running on port 1883; the tests use their own ports."
fi
npm ci --no-audit --no-fund
