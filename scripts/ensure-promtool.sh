#!/usr/bin/env bash
# Make sure `promtool` exists (tests/test_metrics_prometheus.py checks deploy/prometheus/
# prometheus.yml with it). Debian ships it in the `prometheus` package; the server itself
# is not started (no systemd here). Measured here: 35 s (apt-get update included) with --no-install-recommends.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then exit 0; fi
echo "promtool ausente: instalando o pacote prometheus com apt-get…" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool >/dev/null
