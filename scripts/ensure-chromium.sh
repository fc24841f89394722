#!/usr/bin/env bash
# The browser test of `mvm report` drives Debian's chromium through playwright-core.
# Installs it when it is missing (needs root or sudo; apt-get only).
set -euo pipefail
bin=${MVM_CHROMIUM:-/usr/bin/chromium}
[ -x "$bin" ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
export DEBIAN_FRONTEND=noninteractive
echo "installing Debian's chromium for the browser test (apt-get install chromium)" >&2
if ! $sudo apt-get install -y -q chromium >/dev/null; then
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q chromium >/dev/null
fi
[ -x "$bin" ] || { echo "chromium is still missing at $bin" >&2; exit 1; }
