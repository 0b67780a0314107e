#!/usr/bin/env bash
# `make dist`: the offline bundle for networks that reach no package index (政务外网, 等保 zones).
#
#   deploy/offline/make-dist.sh VERSION IMAGE      → dist/xuncha-VERSION-offline.tar.gz
#
# It holds the project's wheel and every runtime dependency as wheels for CPython 3.11 on
# x86_64 and aarch64 (manylinux2014, glibc ≥ 2.17: Kylin V10 and UOS 20 have 2.28), the
# container image (docker-archive, x86_64), the deploy files (rules, dashboards, compose,
# Kubernetes, systemd), install.sh and SHA256SUMS.  Run where the package index is reachable;
# everything after is offline.  A dependency without a wheel for either platform fails here,
# not in an office.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=$1
IMAGE=$2
PY=${PYTHON:-.venv/bin/python}
BUILDAH=(buildah --storage-driver "${STORAGE_DRIVER:-vfs}")
PLATFORMS=${PLATFORMS:-"manylinux2014_x86_64 manylinux2014_aarch64"}
NAME=xuncha-$VERSION-offline
STAGE=dist/$NAME
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
rm -rf "$STAGE" "dist/$NAME.tar.gz"
mkdir -p "$STAGE/wheels" "$STAGE/image"

# 1. The project's wheel and, here, every dependency as a wheel.  Dependencies published only
#    as sdists are built once here; that is right only for pure-Python ones (py3-none-any),
#    which any platform can install — anything else has to come as a platform wheel (step 2).
"$PY" -m pip wheel --no-cache-dir --wheel-dir "$WORK/host" . >"$WORK/pip-wheel.log" 2>&1 \
  || { tail -n 30 "$WORK/pip-wheel.log"; exit 1; }
built=$(sed -n 's/^ *Created wheel for [^:]*: filename=\([^ ]*\).*$/\1/p' "$WORK/pip-wheel.log")
for whl in $built; do
  case "$whl" in
    *-none-any.whl) cp "$WORK/host/$whl" "$STAGE/wheels/" ;;
    *) echo "make-dist: $whl was built from an sdist for this machine only; aarch64 would lack it" >&2; exit 1 ;;
  esac
done
echo "make-dist: built from sdists (pure Python): $(echo "$built" | grep -v "^xuncha-" | tr '\n' ' ')"

# 2. Every runtime dependency as a wheel for each platform, from the index; the sdist-built
#    wheels of step 1 are found with --find-links.  The requirements are the wheel's own
#    Requires-Dist, so that the name "xuncha" itself is never looked up on the index.
wheel=$(ls "$STAGE"/wheels/xuncha-"$VERSION"-*.whl)
"$PY" - "$wheel" >"$WORK/requirements.txt" <<'PYEOF'
import sys, zipfile
from email.parser import Parser
with zipfile.ZipFile(sys.argv[1]) as z:
    meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    for req in Parser().parsestr(z.read(meta).decode()).get_all("Requires-Dist") or []:
        if "extra ==" not in req:
            print(req)
PYEOF
for platform in $PLATFORMS; do
  "$PY" -m pip download --no-cache-dir --quiet --only-binary=:all: --platform "$platform" \
    --python-version 3.11 --implementation cp --find-links "$STAGE/wheels" \
    --dest "$STAGE/wheels" -r "$WORK/requirements.txt"
done

# 3. The proof: each platform resolves the whole set from the bundle alone, with no index.
for platform in $PLATFORMS; do
  env -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_FIND_LINKS -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
  "$PY" -m pip download --no-cache-dir --quiet --no-index --find-links "$STAGE/wheels" --only-binary=:all: \
    --platform "$platform" --python-version 3.11 --implementation cp --dest "$WORK/check-$platform" \
    "xuncha==$VERSION" || { echo "make-dist: the bundle does not resolve for $platform" >&2; exit 1; }
done

# 4. The image (docker-archive: `docker load` of every Docker version and `podman load` read it,
#    and it keeps the HEALTHCHECK, which the OCI image format has no field for).
"${BUILDAH[@]}" push --quiet "$IMAGE" "docker-archive:$STAGE/image/xuncha-$VERSION-image.tar:$IMAGE"

# 5. Deploy files, install.sh, the README; then the checksums of everything.
mkdir -p "$STAGE/deploy"
cp -r deploy/prometheus deploy/alertmanager deploy/dingtalk deploy/grafana deploy/k8s deploy/systemd \
  deploy/container deploy/compose.yml "$STAGE/deploy/"
cp deploy/offline/install.sh "$STAGE/install.sh"
chmod 0755 "$STAGE/install.sh"
cp README.md CHANGELOG.md "$STAGE/"
echo "$VERSION" >"$STAGE/VERSION"
(cd "$STAGE" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)

summary="$(ls "$STAGE/wheels" | wc -l) wheels ($(du -sh "$STAGE/wheels" | cut -f1)), image $(du -h "$STAGE/image"/*.tar | cut -f1)"
epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C dist -cf - "$NAME" \
  | gzip -n >"dist/$NAME.tar.gz"
rm -rf "$STAGE"
echo "make-dist: dist/$NAME.tar.gz $(du -h "dist/$NAME.tar.gz" | cut -f1): $summary"
