#!/usr/bin/env bash
# The README's main job: build redial (release) if needed, then a dry run of
# the retry policy on the seed's Payment_Reminders campaign — when each
# attempt would happen for a number that does not answer, is busy, then
# picks up. Extra arguments are passed to `redial-cli plan`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
if [ ! -x build/release/redial-cli ] || [ -n "$(find proto engine -newer build/release/redial-cli -name '*.[ch]' -print -quit)" ]; then
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build/release -j "$(nproc)" --target redial-cli >/dev/null
fi
set -x
build/release/redial-cli plan examples/payment_reminders.json \
  --start "2026-12-01 10:00" --outcomes no-answer,busy,completed "$@"
