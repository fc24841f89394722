#!/usr/bin/env bash
# The signing tests run Debian's OpenSSH client: ssh-keygen (-Y sign / verify / find-principals), ssh-agent and ssh-add.
# Installs openssh-client when one of them is missing (needs root or sudo; apt-get only).
set -euo pipefail
have() { command -v ssh-keygen >/dev/null && command -v ssh-agent >/dev/null && command -v ssh-add >/dev/null; }
have && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
export DEBIAN_FRONTEND=noninteractive
echo "installing Debian's openssh-client for the signing tests (apt-get install openssh-client)" >&2
if ! $sudo apt-get install -y -q openssh-client >/dev/null; then
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q openssh-client >/dev/null
fi
have || { echo "ssh-keygen, ssh-agent or ssh-add is still missing" >&2; exit 1; }
