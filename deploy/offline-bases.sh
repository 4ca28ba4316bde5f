#!/usr/bin/env bash
# Local stand-ins of the base images the Dockerfile and docker-compose.yml name, built from Debian
# packages, for Docker hosts that cannot reach Docker Hub or ghcr.io:
#   python:<PYTHON_VERSION>-slim-bookworm  Debian bookworm's python3 (3.11), linked at /usr/local/bin
#   ghcr.io/astral-sh/uv:<UV_VERSION>     FROM scratch + the uv/uvx binaries of that version (PyPI wheel)
#   postgres:<tag of docker-compose.yml>  Debian's postgresql-15 + deploy/postgres/entrypoint.sh
# The names are read from the Dockerfile and the compose file, so builds and `up` then use these local
# images and never contact a registry. An image that already exists locally is left alone (--force
# rebuilds it); with registry access you need none of this.
#
#   sudo deploy/offline-bases.sh [--force]
#
# Needs root (debootstrap), a running Docker engine and Debian packages (a Debian mirror over HTTP; the
# one of /etc/apt/sources.list, or DEBIAN_MIRROR). Takes 1.5–3 minutes; leaves one extra image
# (predmaint-offline/debian:bookworm, the root filesystem) that `docker image rm` may remove.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCKER=${DOCKER:-/usr/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
FORCE=${1:-}
SUITE=bookworm
ROOTFS_IMAGE=predmaint-offline/debian:$SUITE

arg() { sed -n "s/^ARG $1=//p" Dockerfile | head -n1; }
PYTHON_IMAGE="python:$(arg PYTHON_VERSION)-slim-$SUITE"
UV_VERSION=$(arg UV_VERSION)
UV_IMAGE="ghcr.io/astral-sh/uv:$UV_VERSION"
POSTGRES_IMAGE=$(sed -n 's/^ *image: *\(postgres:[^ ]*\)$/\1/p' docker-compose.yml | head -n1)

mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  m=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | grep -oE 'https?://[^ ]+' | head -n1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}
have() { [ "$FORCE" != --force ] && "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if ! have "$ROOTFS_IMAGE"; then
  echo "debootstrap $SUITE (minbase) from $(mirror)"
  debootstrap --variant=minbase "$SUITE" "$WORK/rootfs" "$(mirror)" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 20 "$WORK/debootstrap.log"; exit 1; }
  rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" -c . | "$DOCKER" import - "$ROOTFS_IMAGE" >/dev/null
  rm -rf "$WORK/rootfs"
fi

ctx() { echo "$WORK/ctx-${1//[^A-Za-z0-9]/_}"; }  # the build context of image NAME
build() {  # build NAME from the Dockerfile on stdin, context $(ctx NAME) (files put there first)
  local dir
  dir=$(ctx "$1")
  mkdir -p "$dir"
  "$DOCKER" build --network host -q -t "$1" -f - "$dir" >"$dir.log" 2>&1 || { cat "$dir.log"; return 1; }
  echo "built $1"
}
APT="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends"
CLEAN="apt-get clean && rm -rf /var/lib/apt/lists/*"
# the python and postgres stand-ins build at the same time (mostly downloads and dpkg)
pids=()

if ! have "$PYTHON_IMAGE"; then
  build "$PYTHON_IMAGE" <<DOCKERFILE &
FROM $ROOTFS_IMAGE
RUN $APT python3 ca-certificates netbase tzdata && $CLEAN \\
 && ln -s /usr/bin/python3.11 /usr/local/bin/python3 && ln -s /usr/bin/python3.11 /usr/local/bin/python
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
CMD ["python3"]
DOCKERFILE
  pids+=($!)
fi

if ! have "$UV_IMAGE"; then
  uv_bin=$(python3 -c 'import uv; print(uv.find_uv_bin())' 2>/dev/null || true)
  if [ -z "$uv_bin" ] || [ "$("$uv_bin" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
      -d "$WORK/wheel" "uv==$UV_VERSION"
    python3 -m zipfile -e "$WORK"/wheel/uv-*.whl "$WORK/wheel/x"
    uv_bin=$(echo "$WORK"/wheel/x/uv-*.data/scripts/uv)
  fi
  mkdir -p "$(ctx "$UV_IMAGE")"
  cp "$uv_bin" "$(dirname "$uv_bin")/uvx" "$(ctx "$UV_IMAGE")/" && chmod 755 "$(ctx "$UV_IMAGE")"/uv*
  build "$UV_IMAGE" <<'DOCKERFILE'
FROM scratch
COPY uv uvx /
ENTRYPOINT ["/uv"]
DOCKERFILE
fi

if ! have "$POSTGRES_IMAGE"; then
  mkdir -p "$(ctx "$POSTGRES_IMAGE")"
  cp deploy/postgres/entrypoint.sh "$(ctx "$POSTGRES_IMAGE")/entrypoint.sh"
  build "$POSTGRES_IMAGE" <<DOCKERFILE &
FROM $ROOTFS_IMAGE
RUN $APT postgresql-15 gosu ca-certificates tzdata && $CLEAN \\
 && usermod -u 999 postgres && groupmod -g 999 postgres \\
 && rm -rf /var/lib/postgresql/15 && mkdir -p /docker-entrypoint-initdb.d /var/run/postgresql /var/lib/postgresql/data \\
 && chown -R postgres:postgres /var/run/postgresql /var/lib/postgresql && chmod 3777 /var/run/postgresql
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PGDATA=/var/lib/postgresql/data LANG=C.UTF-8
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
DOCKERFILE
  pids+=($!)
fi
for pid in ${pids[@]+"${pids[@]}"}; do wait "$pid"; done
