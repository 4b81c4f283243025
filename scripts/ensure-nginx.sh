#!/usr/bin/env bash
# Make sure an nginx binary exists (tests/test_nginx.py runs it in front of two API processes).
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then exit 0; fi
echo "nginx ausente: instalando com apt-get…" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx >/dev/null
# The test starts its own instances; the package's default site must not hold port 80.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true; fi
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]
