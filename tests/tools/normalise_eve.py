#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Normalise EVE NDJSON for comparing two replays of the same traffic: drops stats and
anomaly events (anomalies are what an evasion is meant to raise), drops or masks what
legitimately differs when packets move (timestamp, flow_id, a bypass's first_seen), and
sorts the lines.

  normalise_eve.py [--mask]  < in.jsonl > out.jsonl
--mask replaces timestamp and flow_id with placeholders instead of dropping them.
"""
import json
import sys


def main():
    mask = "--mask" in sys.argv[1:]
    out = []
    for line in sys.stdin:
        if not line.strip():
            continue
        ev = json.loads(line)
        if ev.get("event_type") in ("stats", "anomaly"):
            continue
        for key in ("timestamp", "flow_id"):
            if key in ev:
                if mask:
                    ev[key] = key.upper()
                else:
                    del ev[key]
        # when a bypass was first seen is a packet's time too
        if "first_seen" in ev.get("bypass", {}):
            if mask:
                ev["bypass"]["first_seen"] = "FIRST_SEEN"
            else:
                del ev["bypass"]["first_seen"]
        out.append(json.dumps(ev, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    sys.stdout.write("".join(line + "\n" for line in sorted(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
