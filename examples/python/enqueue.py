#!/usr/bin/env python3
"""Hand numbers to redial from another service (Python).

    apt-get install python3-redis python3-msgpack     # or: pip install redis msgpack
    python3 enqueue.py Payment_Reminders +919876543210 +919876543211

Each number becomes one XADD to <prefix>:inbox with field `m` holding a msgpack
map (see docs/INTERFACES.md). An `id` makes the enqueue idempotent: sending the
same id twice creates one job.
"""
import argparse
import os
import uuid

import msgpack
import redis


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("campaign")
    ap.add_argument("numbers", nargs="+", help="E.164 numbers, e.g. +919876543210")
    ap.add_argument("--redis", default=os.environ.get("REDIAL_REDIS_URL", "redis://127.0.0.1:6379/0"))
    ap.add_argument("--prefix", default=os.environ.get("REDIAL_PREFIX", "{redial}"))
    ap.add_argument("--var", action="append", default=[], help="KEY=VALUE custom field")
    args = ap.parse_args()

    r = redis.Redis.from_url(args.redis)
    variables = dict(v.split("=", 1) for v in args.var)
    for number in args.numbers:
        job = {"v": 1, "campaign": args.campaign, "to": number, "id": str(uuid.uuid4())}
        if variables:
            job["vars"] = variables
        entry = r.xadd(f"{args.prefix}:inbox", {"m": msgpack.packb(job)})
        print(f"{number}: job {job['id']} (inbox entry {entry.decode()})")


if __name__ == "__main__":
    main()
