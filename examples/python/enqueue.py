#!/usr/bin/env python3
"""Hand numbers to redial from another service (Python).

    apt-get install python3-redis python3-msgpack     # or: pip install redis msgpack
    python3 enqueue.py Payment_Reminders +919876543210 +919876543211

Each number becomes one XADD to <prefix>:inbox with field `m` holding a msgpack
map (the inbox format: docs/REDIS.md, "Keys", and docs/API.md for the same job
over HTTP). An `id` makes the enqueue idempotent: sending the same id twice
creates one job.

Then it waits (--wait seconds, 0 = do not) for an engine to take each entry
and prints its fate: `accepted` (a job exists), or `dead-lettered` with the
engine's reason (fix it, then `redial-cli deadletter replay ID`). Exit status:
0 all accepted, 1 some dead-lettered or not taken in time, 2 usage.
"""
import argparse
import os
import sys
import time
import uuid

import msgpack
import redis


def fates(r, prefix, sent, wait_s):
    """entry id -> ("accepted", None) | ("dead-lettered", reason) | ("waiting", None)."""
    out = {e: ("waiting", None) for e in sent}
    deadline = time.monotonic() + wait_s
    while True:
        # The engine deletes an inbox entry once it has judged it.
        pending = [e for e in sent if r.xrange(f"{prefix}:inbox", e, e)]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    taken = [e for e in sent if e not in pending]
    if taken:
        # Dead letters name the refused inbox entry in their `entry` field.
        dead = {}
        for _, f in r.xrevrange(f"{prefix}:deadletter", count=max(1000, 4 * len(sent))):
            dead[f.get(b"entry", b"").decode()] = f.get(b"reason", b"").decode()
        for e in taken:
            out[e] = ("dead-lettered", dead[e]) if e in dead else ("accepted", None)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("campaign")
    ap.add_argument("numbers", nargs="+", help="E.164 numbers, e.g. +919876543210")
    ap.add_argument("--redis", default=os.environ.get("REDIAL_REDIS_URL", "redis://127.0.0.1:6379/0"))
    ap.add_argument("--prefix", default=os.environ.get("REDIAL_PREFIX", "{redial}"))
    ap.add_argument("--var", action="append", default=[], help="KEY=VALUE custom field")
    ap.add_argument("--wait", type=float, default=30, help="seconds to wait for each entry's fate (0 = do not)")
    args = ap.parse_args()

    r = redis.Redis.from_url(args.redis)
    variables = dict(v.split("=", 1) for v in args.var)
    sent = {}
    for number in args.numbers:
        job = {"v": 1, "campaign": args.campaign, "to": number, "id": str(uuid.uuid4())}
        if variables:
            job["vars"] = variables
        entry = r.xadd(f"{args.prefix}:inbox", {"m": msgpack.packb(job)}).decode()
        sent[entry] = (number, job["id"])
        print(f"{number}: job {job['id']} sent (inbox entry {entry})")
    if args.wait <= 0:
        return 0
    bad = 0
    for entry, (fate, reason) in fates(r, args.prefix, list(sent), args.wait).items():
        number, job_id = sent[entry]
        if fate == "accepted":
            print(f"{number}: job {job_id} accepted")
        elif fate == "dead-lettered":
            bad += 1
            print(f"{number}: job {job_id} dead-lettered: {reason}")
        else:
            bad += 1
            print(f"{number}: job {job_id} still in the inbox after {args.wait:g} s (is an engine running?)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
