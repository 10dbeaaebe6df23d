#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check an inline replay of the demo capture that blocked sessions a and b (run_inline.sh).

Usage: check_block.py INPUT.pcap OUTDIR EVE.jsonl REPLY
OUTDIR holds port1.pcap (what went on) and port0.pcap (what went back), stats.json.
Prints PASS:/FAIL: lines; exits 1 on a failure.
"""

import os
import sys

from scapy.layers.inet import IP, TCP
from scapy.utils import rdpcap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import (client_port, csum_ok, dataplane_counters, ends_message,  # noqa: E402
                      eve_events, report, status)

BLOCKED = {40011: "a: the opted-out recipient", 40012: "b: the drop rule"}


def main():
    in_path, outdir, eve_path, reply = sys.argv[1:5]
    reply = reply.encode() + b"\r\n"
    pkts = [p for p in rdpcap(in_path)]
    on = [p for p in rdpcap(outdir + "/port1.pcap")]
    back = [p for p in rdpcap(outdir + "/port0.pcap")]

    # the client segment that ends each blocked message, and what follows it in its flow
    end_seg, withheld = {}, set()
    for i, p in enumerate(pkts):
        if TCP not in p:
            continue
        port = client_port(p)
        if port not in BLOCKED:
            continue
        if port not in end_seg and ends_message(p):
            end_seg[port] = p
        if port in end_seg:
            withheld.add(i)
    report(set(end_seg) == set(BLOCKED), "the capture has the end of both blocked messages")

    # what went on: the capture without the withheld packets, byte for byte and in order,
    # plus one reset onward to each blocked server
    resets = [p for p in on if TCP in p and p[TCP].flags.R and p[TCP].dport == 25 and
              client_port(p) in BLOCKED and bytes(p) not in {bytes(q) for q in pkts}]
    rest = [bytes(p) for p in on if not any(p is r for r in resets)]
    want = [bytes(p) for i, p in enumerate(pkts) if i not in withheld]
    report(rest == want, "every other packet went on unchanged and in order "
           "(%d of %d; %d withheld)" % (len(rest), len(pkts), len(withheld)))
    for port, seg in end_seg.items():
        mine = [r for r in resets if client_port(r) == port]
        ok = (len(mine) == 1 and mine[0][TCP].seq == seg[TCP].seq and
              mine[0][IP].src == seg[IP].src and mine[0][IP].dst == seg[IP].dst and
              csum_ok(mine[0]))
        report(ok, "%s: the server is reset at the withheld segment's first byte" %
               BLOCKED[port])
        ends_on = [p for p in on if ends_message(p) and client_port(p) == port]
        report(not ends_on, "%s: the end of the message never reached the server" %
               BLOCKED[port])

    # what went back: per blocked session the reply to the withheld segment, then resets
    for port, seg in end_seg.items():
        mine = [p for p in back if TCP in p and client_port(p) == port]
        first = mine[0] if mine else None
        ok = (first is not None and bytes(first[TCP].payload) == reply and
              first[TCP].sport == 25 and first[IP].dst == seg[IP].src and
              first[TCP].seq == seg[TCP].ack and
              first[TCP].ack == seg[TCP].seq + len(seg[TCP].payload) and csum_ok(first))
        report(ok, "%s: the client got the configured reply, acknowledging its segment" %
               BLOCKED[port])
        later = mine[1:]
        ok = (len(later) >= 1 and all(p[TCP].flags.R and p[TCP].sport == 25 and csum_ok(p)
                                      for p in later) and
              all(p[TCP].seq == seg[TCP].ack + len(reply) for p in later))
        report(ok, "%s: what the client sent after (QUIT) got a reset (%d)" %
               (BLOCKED[port], len(later)))
    report(all(client_port(p) in BLOCKED for p in back if TCP in p),
           "nothing was sent back on any other session")

    # alerts: the causes of the blocks say so, the rest do not
    actions = {}
    for ev in eve_events(eve_path):
        if ev.get("event_type") != "alert":
            continue
        actions[(ev["src_port"], ev["alert"]["signature_id"])] = ev["alert"]["action"]
    want = {(40011, 2100002): "blocked", (40012, 9100001): "blocked",
            (40012, 1000001): "allowed"}
    report(all(actions.get(k) == v for k, v in want.items()) and
           sum(1 for v in actions.values() if v == "blocked") == 2,
           "alerts: the suppression violation and the drop rule say blocked (%s)" % actions)

    c = dataplane_counters(outdir)
    ok = (c.get("inline_blocked") == 2 and c.get("inline_block_late") == 0 and
          c.get("inline_injected") == len(back) + len(resets) and
          c.get("inline_forwarded") == len(rest) and c.get("tx_dropped") == 0)
    report(ok, "counters: inline_blocked 2, injected %d, forwarded %d (%s)" % (
        len(back) + len(resets), len(rest),
        {k: v for k, v in c.items() if k.startswith("inline") or k == "tx_dropped"}))
    return status()


if __name__ == "__main__":
    sys.exit(main())
