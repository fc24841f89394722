#!/usr/bin/env bash
# What the tests need besides npm packages, from Debian's packages, installed with apt-get when missing
# (needs root or sudo). Each argument names one tool; no argument means all of them:
#   chromium  the browser test of `mvm report` drives Debian's chromium through playwright-core
#             (MVM_CHROMIUM names another binary)
#   h5py      the HDF5 and .keras tests read files that h5py writes: python3-h5py for /usr/bin/python3
#             (MVM_H5_PYTHON names another Python with h5py)
#   ssh       the signing tests run OpenSSH's ssh-keygen (-Y sign / verify / find-principals), ssh-agent, ssh-add
#   torch     the PyTorch tests read checkpoints that torch.save writes: python3-torch for /usr/bin/python3
#             (MVM_TORCH_PYTHON names another Python with torch)
#   onnx      the ONNX tests read models that onnx.save writes and run onnx.checker: python3-onnx for
#             /usr/bin/python3 (MVM_ONNX_PYTHON names another Python with onnx)
#   strace    the pack tests count the object files a command opens (strace -f -e trace=openat)
#   venv      the Python package tests make a venv with /usr/bin/python3 -m venv and pip install ./python
# Exits non-zero, naming the tool, when one is still missing afterwards.
set -euo pipefail

has_chromium() { [ -x "${MVM_CHROMIUM:-/usr/bin/chromium}" ]; }
has_h5py() { "${MVM_H5_PYTHON:-/usr/bin/python3}" -c 'import h5py' 2>/dev/null; }
has_torch() { "${MVM_TORCH_PYTHON:-/usr/bin/python3}" -c 'import torch' 2>/dev/null; }
has_onnx() { "${MVM_ONNX_PYTHON:-/usr/bin/python3}" -c 'import onnx' 2>/dev/null; }
has_strace() { command -v strace >/dev/null; }
has_venv() { /usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null; }
has_ssh() { command -v ssh-keygen >/dev/null && command -v ssh-agent >/dev/null && command -v ssh-add >/dev/null; }

# ensure TOOL PACKAGE: installs PACKAGE unless has_TOOL already holds
ensure() {
  local tool=$1 package=$2 sudo=""
  "has_$tool" && return 0
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  echo "installing Debian's $package for the tests that need $tool (apt-get install $package)" >&2
  if ! $sudo apt-get install -y -q "$package" >/dev/null; then
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q "$package" >/dev/null
  fi
  "has_$tool" || { echo "$tool is still missing after installing $package" >&2; return 1; }
}

status=0
for tool in "${@:-chromium h5py ssh torch onnx strace venv}"; do
  for t in $tool; do
    case $t in
      chromium) ensure chromium chromium || status=1 ;;
      h5py) ensure h5py python3-h5py || status=1 ;;
      ssh) ensure ssh openssh-client || status=1 ;;
      torch) ensure torch python3-torch || status=1 ;;
      onnx) ensure onnx python3-onnx || status=1 ;;
      strace) ensure strace strace || status=1 ;;
      venv) ensure venv python3-venv || status=1 ;;
      *) echo "unknown tool: $t (chromium, h5py, ssh, torch, onnx, strace or venv)" >&2; status=2 ;;
    esac
  done
done
exit $status
