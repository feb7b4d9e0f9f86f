#!/usr/bin/env bash
# The README's main job: redial end to end on an embedded default.
#
#   1. installs packages and builds (release) if needed;
#   2. shows the policy dry run for one number of the seed's campaign;
#   3. starts a private redis-server, redial-sim (the seed's answer model) and
#      redial-server on free loopback ports, with a time scale of 1440 (one
#      policy day per wall minute), policy time starting Tue 1 Dec 2026 09:00
#      in Asia/Kolkata;
#   4. creates the seed's Payment_Reminders campaign with DEMO_NUMBERS numbers
#      (default 300) through the control API, exactly as the seed's curl does;
#   5. shows live progress until every number has a final disposition, then
#      the campaign's retry metrics and the simulator's referee verdict;
#   6. stops everything it started (also on Ctrl-C) and exits 0 when all
#      numbers finished with zero referee violations.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NUMBERS=${DEMO_NUMBERS:-300}
B=build/release

bash scripts/deps.sh
if [ ! -x $B/redial-server ] || [ ! -x $B/redial-sim ] || [ ! -x $B/redial-cli ] ||
   [ -n "$(find proto engine workers bench -newer $B/redial-server -name '*.[ch]' -print -quit)" ]; then
  echo "demo: building (release)..."
  cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build $B -j "$(nproc)" --target redial-server redial-cli redial-sim >/dev/null
fi

echo "== What the policy does with one number (dry run: redial-cli plan) =="
$B/redial-cli plan examples/payment_reminders.json \
  --start "2026-12-01 10:00" --outcomes no-answer,busy,completed
echo

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
WORK=$(mktemp -d /tmp/redial-demo.XXXXXX)
SIM_PID="" SRV_PID=""
cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  rd_redis_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
# Ctrl-C: a clean stop (the EXIT trap stops the processes), no traceback.
trap 'echo; echo "demo: interrupted, stopping"; exit 130' INT
trap 'exit 143' TERM

rd_redis_start "$WORK/redis"
SIM_PORT=$(rd_free_port)
SRV_PORT=$(rd_free_port)   # public listener: provider callbacks only
ADMIN_PORT=$(rd_free_port) # admin listener: control API, /healthz, /metrics
export REDIAL_REDIS_URL="redis://127.0.0.1:$RD_REDIS_PORT/0"
export REDIAL_TIME_SCALE=1440
export REDIAL_TIME_ORIGIN="2026-12-01T09:00:00+05:30"
REDIAL_TIME_EPOCH=$(date +%s%3N)
export REDIAL_TIME_EPOCH
# Demo-only credentials, shared by the simulator and the engine.
export REDIAL_SIM_EXOTEL_TOKEN=demo-token REDIAL_PROVIDER_TOKEN=demo-token
export REDIAL_PROVIDER_KEY=demo-key REDIAL_CALLBACK_SECRET=demo-callback-secret
export REDIAL_API_KEY=demo REDIAL_API_TOKEN=demo

$B/redial-sim --listen "127.0.0.1:$SIM_PORT" --model seed --seed 42 \
  --exotel-sid demo --exotel-key demo-key --exotel-rate-per-min 0 --report - \
  >"$WORK/sim-report.json" 2>"$WORK/sim.log" &
SIM_PID=$!
# The simulator stands in for one provider account: the demo lifts the
# account rate limit on both sides (a real exotel account allows 200/min).
$B/redial-server --listen "127.0.0.1:$SRV_PORT" --admin-listen "127.0.0.1:$ADMIN_PORT" --provider exotel \
  --provider-url "http://127.0.0.1:$SIM_PORT" --provider-sid demo --provider-rate 100000/1 \
  --log "$WORK/server.log" &
SRV_PID=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$ADMIN_PORT/healthz" >/dev/null 2>&1 &&
    curl -sf "http://127.0.0.1:$SIM_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "== Running: redis-server :$RD_REDIS_PORT, redial-sim :$SIM_PORT, redial-server :$SRV_PORT (admin :$ADMIN_PORT) =="
echo "   time scale 1440 (a policy day per wall minute), policy time from Tue 1 Dec 2026 09:00 IST"

# The seed's body with NUMBERS numbers instead of two.
python3 - "$NUMBERS" >"$WORK/campaign.json" <<'EOF'
import json, sys
body = json.load(open("examples/payment_reminders.json"))
body["numbers"] = ["+9198765%05d" % i for i in range(int(sys.argv[1]))]
json.dump(body, sys.stdout)
EOF
curl -sf -X POST "http://127.0.0.1:$SIM_PORT/sim/campaigns" -H 'Content-Type: application/json' \
  -d '{"name":"Payment_Reminders","concurrency":10,"max_attempts":3,"max_per_day":3,
       "daily_start":"09:00","daily_end":"21:00","timezone":"Asia/Kolkata"}' >/dev/null
echo "== POST /v1/Accounts/demo/Campaigns (the seed's body, $NUMBERS numbers) =="
curl -sS -u demo:demo -X POST "http://127.0.0.1:$ADMIN_PORT/v1/Accounts/demo/Campaigns" \
  -H 'Content-Type: application/json' -d @"$WORK/campaign.json"
echo
echo

# Live progress from the campaign's counters in Redis: one line that fits the
# terminal (80 columns at least), redrawn in place; Ctrl-C ends it quietly
# (the trap below stops everything).
python3 - "$B/redial-cli" "$NUMBERS" <<'EOF'
import json, shutil, signal, subprocess, sys, time
signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
cli, total = sys.argv[1], int(sys.argv[2])
tty = sys.stdout.isatty()
start, last = time.time(), None
while True:
    out = subprocess.run([cli, "stats", "Payment_Reminders", "--json"],
                         capture_output=True, text=True)
    if out.returncode == 0:
        s = json.loads(out.stdout)
        fin = s["finished"]
        unreach = round((s["unreachable_rate"] or 0) * fin)
        line = (f"att {s['attempts']} conn {s['connected']} pend {s['pending']} "
                f"unr {unreach} fin {fin}/{total}")
        if tty:
            cols = max(shutil.get_terminal_size((80, 24)).columns, 40)
            width = max(10, min(30, cols - len(line) - 4))
            done = int(width * fin / total)
            bar = f"[{'#' * done}{'.' * (width - done)}] {line}"[:cols - 1]
            sys.stdout.write("\r" + bar.ljust(cols - 1))
            sys.stdout.flush()
        elif line != last:
            print(f"{time.time() - start:5.1f}s  {line}", flush=True)
        last = line
        if fin >= total:
            break
    if time.time() - start > 180:
        print("\ndemo: campaign did not finish within 180 s", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.5 if tty else 1.0)
if tty:
    print()
EOF
echo
echo "== redial-cli stats Payment_Reminders =="
$B/redial-cli stats Payment_Reminders
echo
VIOL=$(curl -sf "http://127.0.0.1:$SIM_PORT/sim/report" |
  python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["violations_total"], r["calls_total"])')
read -r VIOLATIONS CALLS <<<"$VIOL"
echo "== Referee (redial-sim): $CALLS calls seen, $VIOLATIONS rule violations =="
kill "$SRV_PID" && wait "$SRV_PID"
SRV_PID=""
[ "$VIOLATIONS" = "0" ]
