#!/usr/bin/env bash
# Make sure the widget's browser tests can run: Debian's chromium (never a Playwright
# browser download) and the npm packages of tests/widget (axe-core) in a gitignored
# node_modules. Idempotent; CI runs it before `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "${missing[*]} ausente(s): instalando com apt-get…" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v chromium >/dev/null
if [ ! -f tests/widget/node_modules/axe-core/axe.min.js ]; then
  (cd tests/widget && npm ci --no-audit --no-fund --silent)
fi
test -f tests/widget/node_modules/axe-core/axe.min.js
