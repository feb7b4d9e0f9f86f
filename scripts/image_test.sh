#!/usr/bin/env bash
# Builds the container image (docker/Dockerfile) with podman from a local
# Debian 12 base made with debootstrap, and checks it as a user would:
#   - every binary runs as the image's user (uid 10001, not root) and
#     answers --version;
#   - the engine runs against a real redis-server, listening for callbacks
#     on all addresses, and its HEALTHCHECK (redial-cli health: the engine's
#     own /healthz) passes, then fails once Redis is gone.
#
# The image is built in docker format (OCI drops HEALTHCHECK) with buildah's
# chroot isolation (no OCI runtime needed).
# Where `podman run` works the checks run in containers; where the OCI
# runtime cannot run (a sandbox without cgroup or rlimit rights: crun fails)
# the image is mounted and its binaries run with chroot, as the image's user
# and with the image's environment, entrypoint and healthcheck command.
#
# Skips cleanly (exit 0, "image: SKIP ...") when podman or debootstrap is not
# installed, when not root (debootstrap), or when no Debian mirror can be
# reached for the base: CI never depends on it. The base is cached in
# podman's store as localhost/redial-base:bookworm (delete it to rebuild).
#
#   bash scripts/image_test.sh          (also run by scripts/test.sh, stage "image")
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
skip() { echo "image: SKIP ($*)"; exit 0; }
command -v podman >/dev/null 2>&1 || skip "podman not installed"
command -v debootstrap >/dev/null 2>&1 || skip "debootstrap not installed"
[ "$(id -u)" -eq 0 ] || skip "debootstrap needs root"
timeout 60 podman info >/dev/null 2>&1 || skip "podman cannot run here"

BASE=localhost/redial-base:bookworm
IMG=localhost/redial:test
WORK=$(mktemp -d /tmp/redial-image.XXXXXX)
CTR=""
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
cleanup() {
  [ -n "$CTR" ] && podman rm -f "$CTR" >/dev/null 2>&1
  rd_redis_stop 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! podman image exists "$BASE"; then
  # The machine's own Debian mirror (as apt is configured), never a name of ours.
  MIRROR=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
             2>/dev/null | grep -m1 -E '/debian/?$|/debian ' | awk '{print ($1=="deb") ? $2 : $2}')
  [ -n "$MIRROR" ] || skip "no Debian mirror configured for apt"
  echo "image: debootstrap bookworm from the configured mirror (a few minutes, cached after)"
  if ! timeout 900 debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" \
       >"$WORK/debootstrap.log" 2>&1; then
    tail -n 5 "$WORK/debootstrap.log"
    skip "debootstrap could not make the base (mirror unreachable?)"
  fi
  tar -C "$WORK/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
  rm -rf "$WORK/rootfs"
fi

echo "image: podman build (from $BASE)"
podman build --format docker --isolation chroot --network host -q -f docker/Dockerfile --build-arg BASE="$BASE" \
  -t "$IMG" . \
  >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log"; echo "image: build FAILED"; exit 1; }

fail() { echo "image: FAILED: $*"; exit 1; }
MODE=chroot
if timeout 60 podman run --rm --network host "$IMG" --version >/dev/null 2>&1; then MODE=podman; fi
echo "image: checks run with $MODE"
MNT=""
ENVS=()
if [ "$MODE" = chroot ]; then
  MNT=$(podman image mount "$IMG")
  user=$(podman image inspect --format '{{.Config.User}}' "$IMG")
  ids=$(awk -F: -v u="$user" '$1 == u {print $3 ":" $4}' "$MNT/etc/passwd")
  [ -n "$ids" ] || fail "the image's user '$user' is not in its /etc/passwd"
  while IFS= read -r kv; do [ -n "$kv" ] && ENVS+=("$kv"); done < \
    <(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$IMG")
fi
# Runs a command of the image as its user: in_image [-e K=V]... -- CMD ARGS...
in_image() {
  local extra=()
  while [ "$1" != "--" ]; do extra+=("$2"); shift 2; done
  shift
  if [ "$MODE" = podman ]; then
    local e=()
    for kv in "${extra[@]}"; do e+=(-e "$kv"); done
    podman run --rm --network host "${e[@]}" --entrypoint "$1" "$IMG" "${@:2}"
  else
    env -i "${ENVS[@]}" "${extra[@]}" chroot --userspec="$ids" "$MNT" "$@"
  fi
}
cleanup_mnt() { [ -n "$MNT" ] && podman image unmount "$IMG" >/dev/null 2>&1; cleanup; }
trap cleanup_mnt EXIT

uid=$(in_image -- /usr/bin/id -u)
[ "$uid" = "10001" ] || fail "binaries run as uid $uid, want 10001 (user redial)"
for b in server cli sim bench; do
  out=$(in_image -- "/usr/local/bin/redial-$b" --version)
  case $out in "redial-$b "*) ;; *) fail "redial-$b --version said '$out'" ;; esac
done
echo "image: binaries run as uid 10001 and answer --version"

# The engine against a real Redis (host network: the test Redis is on loopback).
rd_redis_start "$WORK/redis"
PORT=$(rd_free_port)
RUNENV=(-e "REDIAL_REDIS_URL=redis://127.0.0.1:$RD_REDIS_PORT/0" -e "REDIAL_LISTEN=0.0.0.0:$PORT"
        -e "REDIAL_ADMIN_LISTEN=127.0.0.1:$(rd_free_port)" -e REDIAL_API_KEY=k
        -e REDIAL_API_TOKEN=t -e REDIAL_CALLBACK_SECRET=s -e REDIAL_PROVIDER=exotel
        -e REDIAL_PROVIDER_URL=http://127.0.0.1:9 -e REDIAL_PROVIDER_SID=x
        -e REDIAL_PROVIDER_KEY=x -e REDIAL_PROVIDER_TOKEN=x)
ENGINE_PID=""
health() {
  if [ "$MODE" = podman ]; then
    podman healthcheck run "$CTR" >/dev/null 2>&1
  else
    local hc
    hc=$(podman image inspect --format '{{range .Config.Healthcheck.Test}}{{println .}}{{end}}' "$IMG" |
         sed -n '2,$p')
    mapfile -t cmd <<<"$hc"
    local e=()
    for ((i = 1; i < ${#RUNENV[@]}; i += 2)); do e+=("${RUNENV[$i]}"); done
    env -i "${ENVS[@]}" "${e[@]}" chroot --userspec="$ids" "$MNT" "${cmd[@]}" >/dev/null 2>&1
  fi
}
if [ "$MODE" = podman ]; then
  e=()
  for ((i = 1; i < ${#RUNENV[@]}; i += 2)); do e+=(-e "${RUNENV[$i]}"); done
  CTR=$(podman run -d --network host "${e[@]}" "$IMG")
else
  e=()
  for ((i = 1; i < ${#RUNENV[@]}; i += 2)); do e+=("${RUNENV[$i]}"); done
  entry=$(podman image inspect --format '{{range .Config.Entrypoint}}{{println .}}{{end}}' "$IMG")
  env -i "${ENVS[@]}" "${e[@]}" chroot --userspec="$ids" "$MNT" $entry >"$WORK/engine.log" 2>&1 &
  ENGINE_PID=$!
  trap '[ -n "$ENGINE_PID" ] && kill "$ENGINE_PID" 2>/dev/null; cleanup_mnt' EXIT
fi
ok=""
for _ in $(seq 1 50); do
  if health; then ok=1; break; fi
  sleep 0.2
done
[ -n "$ok" ] || { [ "$MODE" = podman ] && podman logs "$CTR" | tail -n 20; tail -n 20 "$WORK/engine.log" 2>/dev/null; fail "HEALTHCHECK never passed"; }
if [ "$MODE" = podman ]; then
  user=$(podman top "$CTR" user | tail -n 1 | tr -d ' ')
else
  user=$(ps -o user= -p "$(pgrep -P "$ENGINE_PID" 2>/dev/null || echo "$ENGINE_PID")" | tr -d ' ')
fi
case $user in redial|10001) ;; *) fail "the engine runs as '$user'" ;; esac
# Callbacks on all addresses: the listener answers on a non-loopback address too.
addr=$(hostname -I 2>/dev/null | awk '{print $1}')
if [ -n "$addr" ]; then
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr:$PORT/healthz" || true)
  [ "$code" != "000" ] || fail "nothing listens on $addr:$PORT (callbacks must be on all addresses)"
fi
echo "image: engine healthy as user redial, callbacks listener on all addresses"
rd_redis_stop
bad=""
for _ in $(seq 1 50); do
  if ! health; then bad=1; break; fi
  sleep 0.2
done
[ -n "$bad" ] || fail "HEALTHCHECK still passes with Redis gone (it must ask the engine)"
echo "image: HEALTHCHECK fails once Redis is gone"
echo "image: OK"
