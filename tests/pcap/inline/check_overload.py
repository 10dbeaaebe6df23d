#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Inline overload (run_inline.sh): more sessions at once than the dataplane has state for.

  check_overload.py write OUT.pcap
      24 SMTP sessions from 10.40.0.10-33 (ports 42000-42023) to the relay, their packets
      interleaved round-robin so that all are open at once (tools/mkpcap.py's dialogues).
  check_overload.py check INPUT.pcap OUTDIR open|closed
      With sessions_per_worker = 16, the sessions that got no state go uninspected:
      open: every packet of the capture went on, unchanged and in order;
      closed: their data-carrying packets were dropped, everything else went on; each
      session is either complete or lost exactly its data packets. Counted either way.
Prints PASS:/FAIL: lines; exits 1 on a failure.
"""

import os
import sys

from scapy.layers.inet import TCP
from scapy.utils import rdpcap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkpcap  # noqa: E402
from checklib import client_port, dataplane_counters, report, status  # noqa: E402

N_SESSIONS = 24
STATE = 16  # sessions_per_worker in run_inline.sh


def write(out):
    per_session = []
    for i in range(N_SESSIONS):
        cap = mkpcap.Capture()
        msg = mkpcap.message([("From", "app%d@corp.example" % i), ("To", "ops@corp.example"),
                              ("Subject", "report %d" % i), ("Date", mkpcap.DATE),
                              ("Message-ID", "<r%d@corp.example>" % i)], "All done.\n")
        cap.session({"client": ("10.40.0.%d" % (10 + i), 42000 + i), "server": mkpcap.RELAY,
                     "dialogue": mkpcap.greeting() + mkpcap.ehlo("app%d.corp.example" % i)
                     + mkpcap.transaction("app%d@corp.example" % i, ["ops@corp.example"],
                                          msg, "4VtL%06d" % i)
                     + mkpcap.quit_()}, i)
        per_session.append([r[2] for r in cap.records])
    cap = mkpcap.Capture()
    step = 0
    while any(per_session):
        for frames in per_session:
            if frames:
                usec = step * mkpcap.STEP_USEC
                cap.records.append((mkpcap.START_SEC + usec // 1000000, usec % 1000000,
                                    frames.pop(0)))
                step += 1
    with open(out, "wb") as f:
        f.write(cap.pcap())
    return 0


def check(in_path, outdir, policy):
    pkts = rdpcap(in_path)
    on = [bytes(p) for p in rdpcap(os.path.join(outdir, "port1.pcap"))]
    c = dataplane_counters(outdir)
    full = c.get("session_pool_full", 0)
    report(full >= N_SESSIONS - STATE,
           "%s: %d packets found no session state (%d sessions at once, room for %d)" %
           (policy, full, N_SESSIONS, STATE))
    if policy == "open":
        report(on == [bytes(p) for p in pkts],
               "open: all %d packets went on, unchanged and in order (%d)" % (len(pkts), len(on)))
        report(c.get("inline_fail_open", 0) > 0 and c.get("inline_fail_closed", 1) == 0,
               "open: counted as fail-open (%d packets)" % c.get("inline_fail_open", 0))
        return

    # closed: the packets that did not go on, session by session
    it = iter(on)
    nxt = next(it, None)
    lost = {}
    for p in pkts:
        if nxt is not None and bytes(p) == nxt:
            nxt = next(it, None)
            continue
        lost.setdefault(client_port(p), []).append(p)
    report(nxt is None, "closed: what went on is the capture with packets left out, in order")
    report(all(len(p[TCP].payload) > 0 for ps in lost.values() for p in ps),
           "closed: only packets carrying data were dropped")
    data = {}
    for p in pkts:
        if len(p[TCP].payload) > 0:
            port = client_port(p)
            data[port] = data.get(port, 0) + 1
    whole = all(len(ps) == data[port] for port, ps in lost.items())
    report(whole and N_SESSIONS - STATE <= len(lost) <= full,
           "closed: %d uninspected sessions lost all their data packets, the others none" %
           len(lost))
    n_lost = sum(len(ps) for ps in lost.values())
    report(c.get("inline_fail_closed", 0) == n_lost and c.get("inline_fail_open", 1) == 0,
           "closed: counted as fail-closed (%d packets, counter %d)" %
           (n_lost, c.get("inline_fail_closed", 0)))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        return write(sys.argv[2])
    if len(sys.argv) == 5 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
        return status()
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
