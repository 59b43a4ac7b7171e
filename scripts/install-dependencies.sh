#!/usr/bin/env bash
# Install the system libraries girfec builds against (Debian 12):
#   libgsl-dev        GNU Scientific Library: generators and distributions
#   librandom123-dev  Random123 headers: the Philox4x32-10 counter-based generator
# Does nothing when both are already installed.
set -euo pipefail
packages=(libgsl-dev librandom123-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ "${1:-}" != "--force" ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-dependencies: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y "${packages[@]}"
