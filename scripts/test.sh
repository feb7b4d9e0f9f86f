#!/usr/bin/env bash
# The whole test suite — the README's test command, and what CI runs.
#
#   1. installs the Debian packages (scripts/deps.sh, a no-op when present);
#   2. starts one throw-away redis-server on a free loopback port for the run
#      (tests that must kill or restart Redis start their own);
#   3. builds and runs ctest in three builds: release (every test),
#      ASan+UBSan (every test), TSan (tests labelled "threads");
#   4. builds the libFuzzer targets with clang and runs each briefly;
#   5. checks that every C file is laid out as .clang-format says;
#   6. conformance: checks redial against references nobody here wrote —
#      provider documentation fixtures (tests/conformance/fixtures) replayed
#      through the adapters and parsers, and the official `twilio` npm
#      package (installed into a throwaway folder): its signatures against
#      redial's signer/verifier, its REST client against redial-sim, its
#      validateRequest against redial-sim's callbacks;
#   7. runs the fault suite (tests/faults/, redial-faults on the release
#      build: real faults at load, invariants after each; a few minutes);
#   8. builds the container image with podman from a debootstrap base and runs
#      its binaries as the image's user (scripts/image_test.sh; skipped when
#      podman or debootstrap is absent);
#   9. runs the README's demo command (scripts/demo.sh) end to end.
#
# Environment: RD_TEST_BUILDS="release asan tsan fuzz format conformance faults image demo"
# (subset to run), RD_FUZZ_SECONDS (per target, default 10), CTEST_ARGS (extra ctest flags),
# RD_FAULTS_SOAK (seconds: the fault suite repeats its scenarios that long),
# RD_FAULTS_SCENARIOS (comma list; redial-faults --list).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/deps.sh
# The Node examples' packages (tests/integ/test_examples.c runs them).
if [ ! -d examples/node/node_modules/redis ] || [ ! -d examples/node/node_modules/@msgpack ]; then
  (cd examples/node && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

BUILDS=${RD_TEST_BUILDS:-"release asan tsan fuzz format conformance faults image demo"}
FUZZ_SECONDS=${RD_FUZZ_SECONDS:-10}
JOBS=$(nproc)

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
rd_redis_start "$ROOT/build/test-redis"
trap rd_redis_stop EXIT
export REDIAL_TEST_REDIS_URL="redis://127.0.0.1:$RD_REDIS_PORT/0"
echo "test: redis-server on $REDIAL_TEST_REDIS_URL"

configure() { # dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

# The conformance stage (6 above). Nothing is cached in the repository: npm
# installs tests/conformance/package.json's pinned twilio into a temp dir.
conformance() {
  local work sim_pid="" rc=0 sid=AC0123456789abcdef0123456789abcdef token=c0nf-sim-token
  work=$(mktemp -d)
  build/release/conformance_check fixtures tests/conformance/fixtures || rc=1
  cp tests/conformance/package.json tests/conformance/twilio_oracle.js "$work/"
  if ! (cd "$work" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >npm.log 2>&1); then
    cat "$work/npm.log"; echo "conformance: npm install twilio FAILED"; rm -rf "$work"; return 1
  fi
  { node "$work/twilio_oracle.js" sign tests/conformance/signature_cases.json "$work/sigs.tsv" &&
    build/release/conformance_check sig "$work/sigs.tsv"; } || rc=1
  REDIAL_SIM_TWILIO_TOKEN=$token build/release/redial-sim --listen 127.0.0.1:0 \
    --port-file "$work/port" --twilio-sid "$sid" --model uniform:completed=1 --ring-min 0.05 \
    --ring-max 0.1 --talk-min 0.1 --talk-max 0.2 --twilio-rate-per-s 0 >"$work/sim.out" 2>"$work/sim.log" &
  sim_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  if [ -s "$work/port" ]; then
    node "$work/twilio_oracle.js" client "http://127.0.0.1:$(cat "$work/port")" "$sid" "$token" || rc=1
  else
    cat "$work/sim.log"; echo "conformance: redial-sim did not start"; rc=1
  fi
  kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
  [ $rc = 0 ] && echo "conformance: redial agrees with the provider references"
  return $rc
}

status=0
for b in $BUILDS; do
  echo "=== build: $b ==="
  case $b in
    release)
      configure build/release
      (cd build/release && ctest --output-on-failure -j "$JOBS" ${CTEST_ARGS:-}) || status=1 ;;
    asan)
      configure build/asan -DRD_SANITIZE=address,undefined
      (cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j "$JOBS" ${CTEST_ARGS:-}) || status=1 ;;
    tsan)
      configure build/tsan -DRD_SANITIZE=thread
      (cd build/tsan && TSAN_OPTIONS="halt_on_error=1 suppressions=$ROOT/tests/tsan.supp" \
        ctest --output-on-failure -L threads ${CTEST_ARGS:-}) || status=1 ;;
    fuzz)
      CC=clang configure build/fuzz -DRD_FUZZ=ON
      for f in build/fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        name=$(basename "$f")
        work=$(mktemp -d)
        cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
        echo "fuzz: $name for ${FUZZ_SECONDS}s"
        if ! "$f" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -print_final_stats=0 \
             "$work" >"build/fuzz/$name.log" 2>&1; then
          tail -n 40 "build/fuzz/$name.log"
          echo "fuzz: $name FAILED"
          status=1
        fi
        rm -rf "$work"
      done ;;
    format)
      # Fix with: find proto common store engine workers cli sim bench tests -name '*.[ch]' | xargs clang-format -i
      if ! find proto common store engine workers cli sim bench tests -name '*.[ch]' -print0 |
           xargs -0 clang-format --dry-run --Werror 2>"build/format.log"; then
        head -n 40 build/format.log
        echo "format: files differ from .clang-format (see above)"
        status=1
      else
        echo "format: every C file matches .clang-format"
      fi ;;
    demo)
      # The README's first command, as a newcomer runs it (its own Redis,
      # simulator and engine on free ports; exits non-zero on a violation).
      if ! bash scripts/demo.sh >build/demo.log 2>&1; then
        tail -n 30 build/demo.log
        echo "demo: FAILED (build/demo.log)"
        status=1
      else
        grep -E "^== Referee" build/demo.log || true
      fi ;;
    image)
      bash scripts/image_test.sh || status=1 ;;
    conformance)
      configure build/release
      conformance || status=1 ;;
    faults)
      # Its own redis-server (AOF), redial-sim and engines; bounded (the
      # default scenarios take ~3 minutes alone), a soak with RD_FAULTS_SOAK.
      configure build/release
      timeout --kill-after=30 $(( ${RD_FAULTS_SOAK:-0} + 600 )) \
        build/release/redial-faults || status=1 ;;
    *) echo "unknown build '$b'" >&2; exit 2 ;;
  esac
done
exit $status
