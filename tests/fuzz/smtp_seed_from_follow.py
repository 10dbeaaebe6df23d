#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn a tshark "follow,tcp,raw" dump (tests/data/smtp/*.follow) into a fuzz_smtp seed.

Seed format (see tests/fuzz/fuzz_smtp.c): one byte of split seed, then records
[dir][len lo][len hi][bytes], dir 1 = client to server (node 0), 0 = server (tab-indented).
--max-bytes keeps only the start of the conversation, to keep the corpus small.

Usage: tests/fuzz/smtp_seed_from_follow.py IN.follow OUT [--seed N] [--max-bytes N]
"""

import argparse
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("follow")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-bytes", type=int, default=0)
    args = ap.parse_args()

    out = bytearray([args.seed & 0xFF])
    total = 0
    with open(args.follow, encoding="ascii") as f:
        for line in f:
            if line in ("\n", "") or line.startswith(("=", "Follow:", "Filter:", "Node ")):
                continue
            server = line.startswith("\t")
            data = bytes.fromhex(line.strip())
            if args.max_bytes and total + len(data) > args.max_bytes:
                data = data[: args.max_bytes - total]
            for i in range(0, len(data), 0xFFFF):
                part = data[i:i + 0xFFFF]
                out += bytes([0 if server else 1, len(part) & 0xFF, len(part) >> 8]) + part
            total += len(data)
            if args.max_bytes and total >= args.max_bytes:
                break
    with open(args.out, "wb") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
