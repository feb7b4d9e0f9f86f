#!/usr/bin/env python3
"""Follow redial's results from another service (Python).

    python3 consume_events.py --group billing

Reads <prefix>:events through a consumer group (each entry is processed by one
consumer of the group, at least once: make your handling idempotent on the
job id + attempt), prints attempt and final events, and acknowledges them.
"""
import argparse
import os
import socket

import msgpack
import redis


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redis", default=os.environ.get("REDIAL_REDIS_URL", "redis://127.0.0.1:6379/0"))
    ap.add_argument("--prefix", default=os.environ.get("REDIAL_PREFIX", "{redial}"))
    ap.add_argument("--group", default="example")
    ap.add_argument("--count", type=int, default=0, help="stop after this many events (0 = never)")
    args = ap.parse_args()

    r = redis.Redis.from_url(args.redis)
    stream = f"{args.prefix}:events"
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    try:
        r.xgroup_create(stream, args.group, id="0", mkstream=True)
    except redis.ResponseError as e:  # BUSYGROUP: the group exists already
        if "BUSYGROUP" not in str(e):
            raise
    seen = 0
    while args.count == 0 or seen < args.count:
        # Never read more than is left to process: entries read but not acked
        # would stay pending for this consumer.
        batch = 100 if args.count == 0 else min(100, args.count - seen)
        for _, entries in r.xreadgroup(args.group, consumer, {stream: ">"}, count=batch, block=5000) or []:
            for entry_id, fields in entries:
                ev = msgpack.unpackb(fields[b"m"], raw=False)
                if ev["type"] == "attempt":
                    print(f"attempt {ev['id']} #{ev['attempt']} {ev['to']}: {ev['outcome']}")
                else:
                    print(f"final   {ev['id']} {ev['to']}: {ev['disposition']} after {ev['attempts']} attempts")
                r.xack(stream, args.group, entry_id)
                seen += 1


if __name__ == "__main__":
    main()
