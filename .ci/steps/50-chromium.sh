#!/usr/bin/env bash
# Headless Chromium for tests/output/test_report.py (the HTML report must render without
# console errors). Debian's package; no browser is downloaded by the tests themselves.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    chromium --version
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
chromium --version
