#!/bin/sh
# Xuncha (巡查) offline install: from this bundle only, no package index, no internet.
#
#   sudo ./install.sh                      # /opt/xuncha (a virtual environment); the image if docker/podman exists
#   sudo ./install.sh --systemd            # also: system user xuncha, /etc/xuncha/xuncha.yml, the systemd unit
#   ./install.sh --prefix ~/xuncha --no-image
#   ./install.sh --python /usr/local/bin/python3.11
#
# Needs CPython 3.11 with the venv module (Debian: python3-venv) on x86_64 or aarch64 Linux
# (glibc ≥ 2.17).  Without Python 3.11 use the container image in image/.
set -eu
cd "$(dirname "$0")"

PREFIX=/opt/xuncha
PYTHON=python3
SYSTEMD=0
IMAGE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --python) PYTHON=$2; shift 2 ;;
    --systemd) SYSTEMD=1; shift ;;
    --no-image) IMAGE=0; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
done
VERSION=$(cat VERSION)

say() { echo "install.sh: $*"; }
die() { echo "install.sh: $*" >&2; exit 1; }

say "checking SHA256SUMS"
sha256sum --check --quiet SHA256SUMS || die "the bundle is damaged (SHA256SUMS do not match)"

"$PYTHON" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
  || die "$PYTHON is not CPython 3.11 with venv (the wheels are for 3.11); give --python, or use image/"

say "installing xuncha $VERSION into $PREFIX"
"$PYTHON" -m venv "$PREFIX"
# Only this bundle: no pip configuration of the machine (an unreachable mirror, other wheel
# directories) takes part.
env -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_FIND_LINKS -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
  PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
  "$PREFIX/bin/pip" install --quiet --no-index --find-links "$PWD/wheels" "xuncha==$VERSION"
"$PREFIX/bin/xuncha" --version

if [ "$IMAGE" = 1 ]; then
  archive=image/xuncha-$VERSION-image.tar
  if [ "$(uname -m)" != x86_64 ]; then
    say "the image in $archive is for x86_64; not loaded on $(uname -m)"
  elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    docker load -i "$archive"
  elif command -v podman >/dev/null 2>&1; then
    podman load -i "$archive"
  else
    say "no container engine here: image not loaded (load $archive with docker load or podman load)"
  fi
fi

if [ "$SYSTEMD" = 1 ]; then
  [ "$(id -u)" = 0 ] || die "--systemd needs root"
  id xuncha >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /var/lib/xuncha \
    --shell /usr/sbin/nologin xuncha
  install -d -m 0755 /etc/xuncha
  if [ ! -e /etc/xuncha/xuncha.yml ]; then
    install -m 0644 deploy/systemd/xuncha.yml /etc/xuncha/xuncha.yml
  else
    say "/etc/xuncha/xuncha.yml exists: kept"
  fi
  sed "s#/opt/xuncha/#$PREFIX/#g" deploy/systemd/xuncha.service >/etc/systemd/system/xuncha.service
  chmod 0644 /etc/systemd/system/xuncha.service
  command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload || true
  say "edit /etc/xuncha/xuncha.yml, then: systemctl enable --now xuncha"
fi
