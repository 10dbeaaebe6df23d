# SPDX-License-Identifier: BSD-3-Clause
"""What the inline replay checkers of run_inline.sh share (check_*.py in this directory).

A checker prints one "PASS: " or "FAIL: " line per check through report() and exits with
status(); the helpers read what scripts/replay --inline wrote (the ports' captures, the
dataplane's counters in stats.json, the EVE lines) and look at SMTP segments of the captures.
It judges nothing by itself and keeps no state but the failure count. Import it after a
sys.path insert of the checker's own directory.
"""

import json
import os

from scapy.layers.inet import IP, TCP

END_OF_DATA = b"\r\n.\r\n"

_n_fail = 0


def report(ok, text):
    global _n_fail
    print(("PASS: " if ok else "FAIL: ") + text)
    _n_fail += 0 if ok else 1


def status():
    """The checker's exit status: 1 after a failed check, else 0."""
    return 1 if _n_fail else 0


def client_port(p):
    """The client's port of a segment to or from the SMTP server (port 25)."""
    t = p[TCP]
    return t.sport if t.dport == 25 else t.dport


def ends_message(p):
    """A client segment that carries the end of a message's DATA."""
    return TCP in p and p[TCP].dport == 25 and END_OF_DATA in bytes(p[TCP].payload)


def csum_ok(p, layers=(IP, TCP)):
    """The checksums of LAYERS as the sender wrote them equal what scapy computes afresh."""
    q = p.__class__(bytes(p))
    want = [q[layer].chksum for layer in layers]
    for layer in layers:
        del q[layer].chksum
    q = q.__class__(bytes(q))
    return [q[layer].chksum for layer in layers] == want


def dataplane_counters(outdir):
    """The dataplane's counters in OUTDIR/stats.json (posternctl stats --json)."""
    with open(os.path.join(outdir, "stats.json")) as f:
        return json.load(f).get("dataplane", {})


def eve_events(path):
    """Every event of an EVE JSON lines file."""
    with open(path) as f:
        return [json.loads(line) for line in f]
