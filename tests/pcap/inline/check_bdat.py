#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A message sent with BDAT (RFC 3030) blocked inline (run_inline.sh).

  check_bdat.py write OUT.pcap
      One session from 10.10.3.31: the drop rule's "FREE MONEY" message in two chunks,
      BDAT n then BDAT m LAST, each with its server reply (tools/mkpcap.py's dialogues).
  check_bdat.py check INPUT.pcap OUTDIR
      The first chunk went on; the segment carrying BDAT ... LAST and the message's end did
      not, nor anything of the session after it; the client got block_reply acknowledging
      that segment; the counters say one block.
Prints PASS:/FAIL: lines; exits 1 on a failure.
"""

import os
import sys

from scapy.layers.inet import TCP
from scapy.utils import rdpcap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tools"))
import mkpcap  # noqa: E402
from checklib import dataplane_counters, report, status  # noqa: E402

REPLY = b"550 5.7.1 Message refused by the site's mail policy\r\n"


def write(out):
    msg = mkpcap.message([("From", "billing@outside.example"), ("To", "ap@corp.example"),
                          ("Subject", "FREE MONEY for you"), ("Date", mkpcap.DATE),
                          ("Message-ID", "<b1@outside.example>")], "Pay the fee today.\n")
    half = len(msg) // 2
    dialogue = (mkpcap.greeting() + mkpcap.ehlo("ws31.corp.example") + [
        ("C", b"MAIL FROM:<billing@outside.example>\r\n"), ("S", b"250 2.1.0 Ok\r\n"),
        ("C", b"RCPT TO:<ap@corp.example>\r\n"), ("S", b"250 2.1.5 Ok\r\n"),
        ("C", b"BDAT %d\r\n" % half + msg[:half]),
        ("S", b"250 2.0.0 %d bytes received\r\n" % half),
        ("C", b"BDAT %d LAST\r\n" % (len(msg) - half) + msg[half:]),
        ("S", b"250 2.0.0 Ok: queued as 4VtB1\r\n"),
    ] + mkpcap.quit_())
    cap = mkpcap.Capture()
    cap.session({"client": ("10.10.3.31", 40031), "server": mkpcap.RELAY,
                 "dialogue": dialogue}, 0)
    with open(out, "wb") as f:
        f.write(cap.pcap())
    return 0


def check(in_path, outdir):
    pkts = rdpcap(in_path)
    on = {bytes(p) for p in rdpcap(os.path.join(outdir, "port1.pcap"))}
    back = [p for p in rdpcap(os.path.join(outdir, "port0.pcap")) if TCP in p]
    last = next(p for p in pkts if TCP in p and b" LAST\r\n" in bytes(p[TCP].payload))
    first = next(p for p in pkts if TCP in p and bytes(p[TCP].payload).startswith(b"BDAT ") and
                 p is not last)
    i_last = [bytes(p) for p in pkts].index(bytes(last))
    report(bytes(first) in on, "the first chunk went on")
    report(all(bytes(p) not in on for p in pkts[i_last:] if TCP in p and len(p[TCP].payload)),
           "the BDAT ... LAST segment and everything of the session after it were withheld")
    report(all(bytes(p) in on for p in pkts[:i_last]), "everything before it went on")
    reply = [p for p in back if bytes(p[TCP].payload) == REPLY]
    report(len(reply) == 1 and reply[0][TCP].ack == last[TCP].seq + len(last[TCP].payload) and
           reply[0][TCP].seq == last[TCP].ack,
           "the client got block_reply acknowledging the last chunk")
    c = dataplane_counters(outdir)
    report(c.get("inline_blocked") == 1, "inline_blocked 1 (%s)" % c.get("inline_blocked"))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        return write(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
        return status()
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
