#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a deterministic pcap for posternd's anomaly models: steady mail, then a flood.

Four internal hosts, 10.10.1.11-14, each send RATE messages a minute (one message per
session, sender user@wsNN.corp.example, one recipient) to the relay 10.10.0.25:25 for
--minutes minutes; then 10.10.1.11 also sends --flood messages over --flood-minutes minutes
(10 transactions per session, from promo@blast.example, each to a different
leadN@prospects.example), while the steady traffic goes on; then --after more minutes of
steady traffic, so that the flood's windows are closed by later records, not only by tick().

With posternd's default anomaly settings (anomaly_warmup 3600, anomaly_multiple_pct 500,
anomaly_suppress 3600, anomaly_floor_messages 120, the other floors at their defaults) and
the defaults here (70 minutes, 400 messages in 2 minutes, 5 minutes after), a replay raises
exactly one anomaly alert: messages_per_minute for host 10.10.1.11 (a window of about 200
against a baseline of about 3). The flood's sessions (about 20 a minute), recipients (400
distinct), bytes and recipients per message stay under their floors, and the sender domain
blast.example is new, so it is still in warm-up.

Packets come from tools/mkpcap.py's Capture (handshake, segments, ACKs, FIN close); only
the timestamps are ours: each session starts at its scheduled time with its packets 1 ms
apart, and the sessions' packets are merged in time order. Output is byte-identical from run
to run (timestamps start at mkpcap's 2024-06-03T10:00:00Z).

Usage (from the repository root):
  /usr/bin/python3 tools/gen_flood.py [--minutes 70] [--flood 400] [--flood-minutes 2]
                                      [--after 5] [--rate 3] [--out build/flood.pcap]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkpcap  # noqa: E402

HOSTS = ["10.10.1.11", "10.10.1.12", "10.10.1.13", "10.10.1.14"]
FLOOD_HOST = HOSTS[0]
FLOOD_PER_SESSION = 10
US = 1000000


class TimedCapture(mkpcap.Capture):
    """mkpcap's Capture, with each session starting at a given time (microseconds from
    mkpcap.START_SEC), its packets mkpcap.STEP_USEC apart, sorted by time at the end."""

    def __init__(self):
        super().__init__()
        self.clock_us = 0
        self.n_added = 0

    def add(self, *args, **kwargs):
        super().add(*args, **kwargs)
        t = self.clock_us
        # Stable order for packets of one instant: the order they were added in.
        self.records[-1] = (mkpcap.START_SEC + t // US, t % US, self.records[-1][2],
                            self.n_added)
        self.n_added += 1
        self.clock_us += mkpcap.STEP_USEC

    def session_at(self, start_us, s, index):
        self.clock_us = start_us
        self.session(s, index)

    def pcap(self, cut_at=None):
        self.records.sort(key=lambda r: (r[0], r[1], r[3]))
        self.records = [r[:3] for r in self.records]
        return super().pcap(cut_at)


def steady_message(host_n, seq):
    return mkpcap.message([
        ("From", "user@ws%d.corp.example" % host_n),
        ("To", "ops@corp.example"),
        ("Subject", "Status %d" % seq),
        ("Date", mkpcap.DATE),
        ("Message-ID", "<s%d.%d@ws%d.corp.example>" % (seq, host_n, host_n)),
    ], "Job %d finished without errors.\n" % seq)


def flood_message(n):
    return mkpcap.message([
        ("From", "Blast Promotions <promo@blast.example>"),
        ("To", "lead%d@prospects.example" % n),
        ("Subject", "Limited offer %d" % n),
        ("Date", mkpcap.DATE),
        ("Message-ID", "<offer.%d@blast.example>" % n),
    ], "Buy now: everything half price until tonight.\n")


def build(minutes, flood, flood_minutes, after, rate):
    """(start_us, session) pairs, in no particular order."""
    sessions = []
    total = minutes + flood_minutes + after
    step = 60 * US // rate
    seq = 0
    for minute in range(total):
        for k in range(rate):
            for h, host in enumerate(HOSTS):
                host_n = int(host.rsplit(".", 1)[1])
                # Hosts a few seconds apart, so that sessions never share an instant.
                start = minute * 60 * US + k * step + h * 5 * US
                sessions.append((start, {
                    "client": (host, 0), "server": mkpcap.RELAY,
                    "dialogue": mkpcap.greeting() + mkpcap.ehlo("ws%d.corp.example" % host_n)
                    + mkpcap.transaction("user@ws%d.corp.example" % host_n,
                                         ["ops@corp.example"], steady_message(host_n, seq),
                                         "4VtF%06d" % seq)
                    + mkpcap.quit_()}))
                seq += 1
    n_sessions = (flood + FLOOD_PER_SESSION - 1) // FLOOD_PER_SESSION
    span = flood_minutes * 60 * US
    sent = 0
    for i in range(n_sessions):
        # Offset by 2.5 s from the steady sessions' seconds.
        start = minutes * 60 * US + i * span // max(n_sessions, 1) + 2500000
        dialogue = mkpcap.greeting() + mkpcap.ehlo("ws11.corp.example")
        for _ in range(min(FLOOD_PER_SESSION, flood - sent)):
            dialogue += mkpcap.transaction("promo@blast.example",
                                           ["lead%d@prospects.example" % sent],
                                           flood_message(sent), "4VtX%06d" % sent)
            sent += 1
        dialogue += mkpcap.quit_()
        sessions.append((start, {"client": (FLOOD_HOST, 0), "server": mkpcap.RELAY,
                                 "dialogue": dialogue}))
    return sessions


def main():
    ap = argparse.ArgumentParser(description="Write a pcap of steady SMTP traffic and a flood.")
    ap.add_argument("--minutes", type=int, default=70,
                    help="minutes of steady traffic before the flood (default 70)")
    ap.add_argument("--flood", type=int, default=400,
                    help="messages of the flood from 10.10.1.11 (default 400)")
    ap.add_argument("--flood-minutes", type=int, default=2,
                    help="minutes the flood lasts (default 2)")
    ap.add_argument("--after", type=int, default=5,
                    help="minutes of steady traffic after the flood (default 5)")
    ap.add_argument("--rate", type=int, default=3,
                    help="messages a minute of each steady host, 1..12 (default 3)")
    ap.add_argument("--out", help="output file (default build/flood.pcap in the repository)")
    args = ap.parse_args()
    if args.minutes < 0 or args.flood < 0 or args.after < 0 or args.flood_minutes < 1:
        ap.error("--minutes, --flood and --after must be >= 0, --flood-minutes >= 1")
    if not 1 <= args.rate <= 12:
        ap.error("--rate must be 1..12 (sessions of one host 5 s apart at most)")
    out = args.out
    if out is None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        out = os.path.join(root, "build", "flood.pcap")

    cap = TimedCapture()
    sessions = sorted(build(args.minutes, args.flood, args.flood_minutes, args.after,
                            args.rate), key=lambda p: p[0])
    for index, (start, s) in enumerate(sessions):
        # A client port per session, cycling through 20000..59999.
        s["client"] = (s["client"][0], 20000 + index % 40000)
        cap.session_at(start, s, index)
    data = cap.pcap()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "wb") as f:
        f.write(data)
    print("gen_flood: %s: %d bytes, %d sessions" % (out, len(data), len(sessions)),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
