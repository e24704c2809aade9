#!/usr/bin/env bash
# Install what `make container-test` needs on Debian 12: podman and buildah to
# build and run the image, runc as their runtime, debootstrap for the local base
# image. Installs only what is missing; needs root (CI runs it before the test).
set -euo pipefail

missing=()
for tool in podman buildah debootstrap runc; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
