#!/usr/bin/env bash
# Debian packages that tests and benchmarks need. Idempotent; run as root.
#   poppler-utils             – render report PDFs to PNG, extract their text
#   chromium                  – headless page tests (search board, open-data index)
#   gdal-bin python3-gdal     – gdal_calc.py baseline in bench/bench_indices.py
#   nginx libnginx-mod-rtmp   – the real streaming server for search live links
#   ffmpeg                    – pushes a test pattern to the streaming server
set -euo pipefail
PKGS=(poppler-utils chromium gdal-bin python3-gdal nginx libnginx-mod-rtmp ffmpeg)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system deps: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "system deps missing (${missing[*]}); run as root: sudo bash .ci/system-deps.sh" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# The distribution's nginx service is left as the host has it: the project's tests start their own nginx
# (own config and prefix, loopback, free ports) and stop only that one, by its pid.
