#!/usr/bin/env bash
# Install what `make container-test` and the deploy tests need on Debian 12: podman
# and buildah to build and run the image, runc as their runtime, debootstrap for
# the local base image, skopeo and docker-registry for the image-push test
# (tests/deploy/test_image.py: a registry on loopback stands in for ECR's).
# Installs only what is missing; needs root (CI runs it before `make test`).
set -euo pipefail

missing=()
for tool in podman buildah debootstrap runc skopeo docker-registry; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
