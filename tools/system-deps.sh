#!/usr/bin/env bash
# Debian packages the test suite needs: PostgreSQL server binaries, redis-server and Chromium (the suite
# starts its own throwaway PostgreSQL cluster and Redis server; no system service is started or
# needed). Installs only what is missing; needs root (or sudo) to install.
set -euo pipefail

need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  need+=(postgresql)
fi
if ! command -v redis-server >/dev/null; then
  need+=(redis-server)
fi
# The browser tests drive Debian's Chromium (playwright's own download is not reachable here);
# a CJK font makes zh-CN pages and screenshots legible.
if [ ! -x /usr/bin/chromium ]; then
  need+=(chromium)
fi
if ! fc-list 2>/dev/null | grep -qi -E "wqy|noto sans cjk"; then
  need+=(fonts-wqy-zenhei)
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${need[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# policy-rc.d stops the packages from starting system-wide servers we do not use.
if [ -z "$sudo" ] && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "installed: ${need[*]}"
