#!/usr/bin/env bash
# The HDF5 and .keras tests read files that h5py writes: Debian's python3-h5py, for /usr/bin/python3
# (MVM_H5_PYTHON names another Python with h5py). Installs it when it is missing (needs root or sudo; apt-get only).
set -euo pipefail
py=${MVM_H5_PYTHON:-/usr/bin/python3}
"$py" -c 'import h5py' 2>/dev/null && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
export DEBIAN_FRONTEND=noninteractive
echo "installing Debian's python3-h5py for the HDF5 tests (apt-get install python3-h5py)" >&2
if ! $sudo apt-get install -y -q python3-h5py >/dev/null; then
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q python3-h5py >/dev/null
fi
"$py" -c 'import h5py' || { echo "h5py is still missing for $py" >&2; exit 1; }
