#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""rcpt_reject_suppressed over the demo capture (run_inline.sh): the sender corp.example is
configured commercial, so the RCPT command for the opted-out recipient must reach the server
as "XXXX TO:<...>" (which it refuses with a 5xx), with a right TCP checksum, and every other
packet go on unchanged and in order; the suppression alert says blocked, refused_at_rcpt.

Usage: check_rcpt_refused.py INPUT.pcap OUTDIR EVE.jsonl
"""

import os
import sys

from scapy.layers.inet import IP, TCP
from scapy.utils import rdpcap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import csum_ok, dataplane_counters, eve_events, report, status  # noqa: E402

ADDR = b"optedout@customer.example"


def main():
    in_path, outdir, eve_path = sys.argv[1:4]
    pkts, on = rdpcap(in_path), rdpcap(outdir + "/port1.pcap")
    report(len(on) == len(pkts), "every packet went on (%d of %d)" % (len(on), len(pkts)))
    changed = [(a, b) for a, b in zip(pkts, on) if bytes(a) != bytes(b)]
    ok = len(changed) == 1
    if ok:
        a, b = changed[0]
        pa, pb = bytes(a[TCP].payload), bytes(b[TCP].payload)
        line = b"RCPT TO:<" + ADDR + b">"
        ok = (line in pa and pb == pa.replace(line, b"XXXX TO:<" + ADDR + b">", 1) and
              b[IP].src == a[IP].src and b[TCP].seq == a[TCP].seq and csum_ok(b, (TCP,)))
    report(ok, "only the opted-out recipient's RCPT changed, to XXXX, checksum right")
    alerts = eve_events(eve_path)
    sup = [e for e in alerts if e.get("event_type") == "alert" and
           e["alert"]["signature_id"] == 2100002]
    report(len(sup) == 1 and sup[0]["alert"]["action"] == "blocked" and
           sup[0]["suppression"].get("refused_at_rcpt") is True,
           "the suppression alert says blocked, refused at RCPT time")
    c = dataplane_counters(outdir)
    report(c.get("inline_rcpt_refused") == 1 and c.get("inline_blocked") == 0,
           "counters: inline_rcpt_refused 1, nothing blocked (%s, %s)" %
           (c.get("inline_rcpt_refused"), c.get("inline_blocked")))
    return status()


if __name__ == "__main__":
    sys.exit(main())
