#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The compliance corpus through the inline dataplane with block_canspam (run_inline.sh).

Usage: check_corpus_block.py CORPUS.tsv PORTS.tsv OUTDIR EVE.jsonl
PORTS.tsv is tests/compliance/corpus_pcap.py's output (client port, message). Every message
corpus.tsv expects to be commercial with a failed check must be blocked (its end never went
on, its client got a reply, its CAN-SPAM alert says "blocked"); every other message must go
through untouched (its end went on, nothing came back). Prints PASS:/FAIL: lines.
"""

import os
import sys

from scapy.layers.inet import TCP
from scapy.utils import rdpcap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import (client_port, dataplane_counters, ends_message, eve_events,  # noqa: E402
                      report, status)


def main():
    corpus_path, ports_path, outdir, eve_path = sys.argv[1:5]
    should_block = {}
    for line in open(corpus_path, encoding="utf-8"):
        if not line.strip() or line.startswith("#"):
            continue
        message, _from, kind, failed = line.rstrip("\n").split("\t")[:4]
        should_block[message] = kind == "commercial" and failed != "-"
    port_of = {}
    for line in open(ports_path, encoding="utf-8"):
        port, message = line.rstrip("\n").split("\t")
        port_of[message] = int(port)

    ends_on = {client_port(p) for p in rdpcap(outdir + "/port1.pcap") if ends_message(p)}
    replied = {client_port(p) for p in rdpcap(outdir + "/port0.pcap")
               if TCP in p and len(p[TCP].payload) > 0}
    blocked_alerts = set()
    for ev in eve_events(eve_path):
        if (ev.get("event_type") == "alert" and "canspam" in ev and
                ev["alert"]["action"] == "blocked"):
            blocked_alerts.add(ev["src_port"])

    n_blocked = 0
    for message, block in should_block.items():
        port, name = port_of[message], message.rsplit("/", 1)[-1]
        if block:
            n_blocked += 1
            ok = port not in ends_on and port in replied and port in blocked_alerts
            report(ok, "%s: blocked (end withheld %s, reply %s, alert blocked %s)" % (
                name, port not in ends_on, port in replied, port in blocked_alerts))
        else:
            ok = port in ends_on and port not in replied and port not in blocked_alerts
            report(ok, "%s: went through" % name)
    c = dataplane_counters(outdir)
    report(c.get("inline_blocked") == n_blocked,
           "inline_blocked %s, %d expected" % (c.get("inline_blocked"), n_blocked))
    return status()


if __name__ == "__main__":
    sys.exit(main())
