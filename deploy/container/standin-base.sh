#!/usr/bin/env bash
# A stand-in for docker.io/library/python:3.11-slim-bookworm, made from Debian's own packages.
#
# The Dockerfile builds FROM the official Python image.  Machines without a Docker engine or
# access to a container registry (CI here, and the offices' networks) cannot pull it, so the
# image is built and tested on this equivalent instead: Debian bookworm minbase with Debian's
# Python 3.11, pip and venv, committed under the official image's name so that the Dockerfile
# builds unchanged (`buildah bud --pull-never`).  It is NOT the official image: that one carries
# python.org's CPython 3.11.x in /usr/local; this one Debian's 3.11.2 in /usr.  What the image
# tests prove (non-root user, volume, labels, read-only root, healthcheck) depends on the
# Dockerfile, not on which Python 3.11 it runs.
#
#   deploy/container/standin-base.sh            # once: minutes (downloads ~40 MB of .debs)
#   STANDIN_FORCE=1 deploy/container/standin-base.sh   # rebuild
#
# Needs root, debootstrap and buildah.  The Debian mirror is taken from apt's sources
# (DEBIAN_MIRROR overrides it); this machine's CA bundle is copied in because pip needs it to
# reach the package registry through the local proxy.
set -euo pipefail

NAME=${STANDIN_NAME:-docker.io/library/python:3.11-slim-bookworm}
BUILDAH=(buildah --storage-driver "${STORAGE_DRIVER:-vfs}")
CACHE=${STANDIN_CACHE:-/var/tmp/xuncha-standin}

if [ -z "${STANDIN_FORCE:-}" ] && "${BUILDAH[@]}" inspect --type image "$NAME" >/dev/null 2>&1; then
  echo "standin-base: $NAME exists (STANDIN_FORCE=1 to rebuild)"
  exit 0
fi

mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  # deb822 sources first (URIs: …), then one-line sources (deb URL bookworm main); skip -security.
  local url
  url=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}' | grep -v security | head -n1 || true)
  [ -n "$url" ] || url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2}' | head -n1 || true)
  echo "${url:-http://deb.debian.org/debian}"
}

ROOTFS="$CACHE/rootfs"
mkdir -p "$CACHE"
if [ ! -x "$ROOTFS/usr/bin/python3" ] || [ -n "${STANDIN_FORCE:-}" ]; then
  rm -rf "$ROOTFS"
  started=$(date +%s)
  debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates,passwd \
    bookworm "$ROOTFS" "$(mirror)" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -n 30 "$CACHE/debootstrap.log"; exit 1; }
  echo "standin-base: debootstrap took $(( $(date +%s) - started )) s"
fi

# What the official image has and the Dockerfile relies on: `python` and `pip` on PATH and pip
# allowed to install system-wide (PEP 668's marker is Debian's, the official image has none).
ln -sf python3 "$ROOTFS/usr/bin/python"
[ -e "$ROOTFS/usr/bin/pip" ] || ln -sf pip3 "$ROOTFS/usr/bin/pip"
rm -f "$ROOTFS"/usr/lib/python3.*/EXTERNALLY-MANAGED
cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
# Slim as the official image is: no package lists, caches, manuals or locales beyond C.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/* \
  "$ROOTFS"/var/log/*.log "$ROOTFS"/var/cache/debconf/*-old

ctr=$("${BUILDAH[@]}" from scratch)
trap '"${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
"${BUILDAH[@]}" copy "$ctr" "$ROOTFS" / >/dev/null
"${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env LANG=C.UTF-8 --cmd python3 --os linux --arch "$(dpkg --print-architecture)" \
  --label org.opencontainers.image.description="stand-in for python:3.11-slim-bookworm (debootstrap, deploy/container/standin-base.sh)" \
  "$ctr"
"${BUILDAH[@]}" commit --quiet --rm "$ctr" "$NAME" >/dev/null
trap - EXIT
echo "standin-base: committed $NAME"
