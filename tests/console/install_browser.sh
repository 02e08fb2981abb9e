#!/usr/bin/env bash
# Debian's Chromium (and a Chinese font) for the console's browser tests
# (tests/console/test_console_browser.py), and the `playwright` Python package in .venv.
# Idempotent: does nothing when all are there. Never downloads a browser build of Playwright's own:
# the tests drive /usr/bin/chromium through `executable_path`.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null | head -1)" ]; then
  need+=(fonts-wqy-microhei)   # without a CJK font the pages (and the screenshots) show empty boxes
fi

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install_browser.sh: need root (or sudo) to apt-get install ${need[*]}; the browser tests will be skipped" >&2
    exit 0
  fi
  echo "install_browser.sh: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1 || echo missing)"

if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import playwright" >/dev/null 2>&1; then
  echo "install_browser.sh: pip install playwright (the Python package only; no browser download)"
  .venv/bin/pip install --quiet "playwright>=1.45"
fi
