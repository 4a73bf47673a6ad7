#!/usr/bin/env bash
# CI step: the queue package's tests and one end-to-end test with Redis from Testcontainers, on a
# Docker engine started here with loopback-only networking and a Redis image built locally (no
# registry is reachable). Exits 0 with a message when no engine can start: the rest of CI runs on.
# Facts behind each choice: ../shared/testcontainers.md in the project notes.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "testcontainers step: $*"; }
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

if ! command -v dockerd >/dev/null 2>&1; then
  say "installing docker.io"
  export DEBIAN_FRONTEND=noninteractive
  if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends docker.io >/dev/null; }; then
    say "SKIPPED: docker.io could not be installed"
    exit 0
  fi
fi

work="$(mktemp -d /tmp/fluxq-docker-XXXXXX)"
export DOCKER_HOST="unix://$work/docker.sock"
dockerd_pid=""
cleanup() {
  if [ -n "$dockerd_pid" ]; then
    # Ryuk is off (its image cannot be pulled), so remove what the tests left behind ourselves.
    ids="$(docker ps -aq 2>/dev/null || true)"
    if [ -n "$ids" ]; then docker rm -f $ids >/dev/null 2>&1 || true; fi
    $sudo kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  $sudo rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

say "starting dockerd (data in $work, networking kept on 127.0.0.1)"
$sudo dockerd \
  --host "$DOCKER_HOST" --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" \
  --storage-driver overlay2 --iptables=false --ip-forward=false --ip-masq=false --ip=127.0.0.1 \
  >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 100); do
  if docker version >/dev/null 2>&1; then break; fi
  if ! kill -0 "$dockerd_pid" 2>/dev/null; then break; fi
  sleep 0.2
done
if ! docker version >/dev/null 2>&1; then
  say "SKIPPED: no Docker engine could start here; dockerd said:"
  tail -n 5 "$work/dockerd.log" | sed 's/^/  /'
  dockerd_pid=""
  exit 0
fi

say "building the local Redis image from the host's binaries"
server_bin="$(readlink -f "$(command -v redis-server || echo /usr/bin/redis-check-rdb)")"
cli_bin="$(command -v redis-cli)"
root="$work/rootfs"
mkdir -p "$root/usr/local/bin" "$root/usr/bin" "$root/bin" "$root/etc" "$root/data" "$root/tmp"
cp "$server_bin" "$root/usr/bin/redis-check-rdb"
ln -s redis-check-rdb "$root/usr/bin/redis-server-real"
cp "$cli_bin" "$root/usr/bin/redis-cli"
cp "$(readlink -f /bin/sh)" "$root/bin/sh"
for bin in "$server_bin" "$cli_bin" "$(readlink -f /bin/sh)"; do
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
done
printf 'root:x:0:0:root:/root:/bin/sh\nredis:x:999:999:redis:/data:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nredis:x:999:\n' >"$root/etc/group"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"
tar -C "$root" -c . | docker import - fluxq-redis-base:local >/dev/null
# RedisContainer runs a bare `redis-server`: this wrapper first on PATH turns protected mode off,
# since published ports reach the container from the bridge gateway, which protected mode refuses.
build="$work/build"
mkdir -p "$build"
printf '#!/bin/sh\nexec /usr/bin/redis-server-real "$@" --protected-mode no\n' >"$build/redis-server"
chmod +x "$build/redis-server"
cat >"$build/Dockerfile" <<'DOCKERFILE'
FROM fluxq-redis-base:local
COPY redis-server /usr/local/bin/redis-server
ENV PATH=/usr/local/bin:/usr/bin:/bin
WORKDIR /data
EXPOSE 6379
CMD ["redis-server"]
DOCKERFILE
if ! DOCKER_BUILDKIT=0 docker build -q -t fluxq-redis:local "$build" >/dev/null; then
  say "FAILED: the local Redis image did not build"
  exit 1
fi

say "running packages/queue tests and test/e2e/pipeline.test.ts with Redis from Testcontainers"
# No redis-server for these tests: the harness must take the Testcontainers path.
export FLUXQ_TEST_REDIS=testcontainers REDIS_SERVER_BIN=/nonexistent/redis-server
export FLUXQ_TEST_REDIS_IMAGE=fluxq-redis:local
export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
unset REDIS_URL
log="$work/vitest.log"
if ! timeout 150 npx vitest run packages/queue test/e2e/pipeline.test.ts 2>&1 | tee "$log"; then
  say "FAILED"
  exit 1
fi
used="$(grep -c 'Redis from Testcontainers' "$log" || true)"
if [ "$used" -lt 1 ]; then
  say "FAILED: no test said it used Redis from Testcontainers"
  exit 1
fi
say "passed ($used Redis containers)"
