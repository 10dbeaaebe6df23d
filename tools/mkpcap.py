#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a deterministic pcap of complete SMTP sessions over IPv4/TCP.

Each session is a small Python description (see SCENARIOS at the end): client and server
addresses and ports, and a dialogue of ('C', bytes) client sends and ('S', bytes) server
sends, built with the helpers below (greeting, EHLO and its multi-line 250, MAIL FROM,
RCPT TO, DATA, 354, the dot-stuffed message and ".", 250, QUIT, 221). Every session gets a
3-way handshake with MSS 1460, client and server segments with correct seq/ack, sends longer
than 1460 bytes split into MSS-sized segments (the receiver ACKs every second segment), and a
FIN/ACK close started by the server after its 221. Packets are Ethernet/IPv4 (DF, TTL 64, a
per-host IP id counter)/TCP (window 64240, no options but MSS on SYNs).

Output is byte-identical from run to run: fixed ISNs per session, fixed MAC addresses,
timestamps starting at 2024-06-03T10:00:00Z and advancing 1 ms per packet over the whole
file, and the pcap records are written here (classic libpcap format, microseconds, linktype
Ethernet, snaplen 65535) rather than through a writer that stamps wall-clock time.

It does not generate TLS, IPv6, loss, reordering or retransmissions: that is what the real
captures under shared/data and dedicated golden cases are for.

Scenarios:
  demo  tests/pcap/demo/input.pcap: four sessions from 10.10.1.11-14 to the relay
        10.10.0.25:25 -- (a) a newsletter to optedout@customer.example (on the suppression
        list, opted out 2024-01-02), (b) "FREE MONEY waiting for you" with "wire transfer
        fee" in the body, (c) two clean internal transactions in one session, (d) a
        pipelined 6 KB message to bob@corp.example and former@customer.example (opted out,
        then consented later: no alert).
  bad   tests/pcap/truncated/input.pcap: session (b) complete, then session (c) with the file
        cut in the middle of the record of the segment carrying its first message (the
        record header promises more bytes than the file holds).

Usage (from the repository root):
  /usr/bin/python3 tools/mkpcap.py [--scenario demo|bad|portreuse|suppress|bypass|bench|synflood] [--sessions N]
                                   [--syns N] [--out FILE]
--out defaults to the scenario's path above, relative to the repository root.
"""

import argparse
import os
import struct
import sys

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

MSS = 1460
WINDOW = 64240
START_SEC = 1717408800  # 2024-06-03T10:00:00Z
STEP_USEC = 1000
CRLF = b"\r\n"
RELAY = ("10.10.0.25", 25)
RELAY_NAME = "relay.corp.example"
DATE = "Mon, 03 Jun 2024 10:00:00 +0000"


# ---------------------------------------------------------------- dialogue helpers

def greeting(name=RELAY_NAME):
    return [("S", b"220 %s ESMTP Postfix\r\n" % name.encode())]


def ehlo(client_name, server_name=RELAY_NAME, pipelining=True):
    ext = [server_name]
    if pipelining:
        ext.append("PIPELINING")
    ext += ["SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]
    reply = b"".join(
        b"250%s%s\r\n" % (b" " if i == len(ext) - 1 else b"-", e.encode())
        for i, e in enumerate(ext))
    return [("C", b"EHLO %s\r\n" % client_name.encode()), ("S", reply)]


def message(headers, body):
    """RFC 5322 text from (name, value) pairs and a body using \\n line ends."""
    text = "".join("%s: %s\n" % (k, v) for k, v in headers) + "\n" + body
    if not text.endswith("\n"):
        text += "\n"
    return text.replace("\n", "\r\n").encode()


def dot_stuff(msg):
    """The DATA payload: leading dots doubled, then the terminating CRLF.CRLF."""
    lines = msg.split(CRLF)
    if lines and lines[-1] == b"":
        lines.pop()
    stuffed = [b"." + l if l.startswith(b".") else l for l in lines]
    return CRLF.join(stuffed) + CRLF + b"." + CRLF


def transaction(mail_from, rcpts, msg, queue_id):
    """One MAIL..DATA cycle, each command and reply in its own segment."""
    steps = [("C", b"MAIL FROM:<%s>\r\n" % mail_from.encode()), ("S", b"250 2.1.0 Ok\r\n")]
    for r in rcpts:
        steps += [("C", b"RCPT TO:<%s>\r\n" % r.encode()), ("S", b"250 2.1.5 Ok\r\n")]
    steps += [
        ("C", b"DATA\r\n"),
        ("S", b"354 End data with <CR><LF>.<CR><LF>\r\n"),
        ("C", dot_stuff(msg)),
        ("S", b"250 2.0.0 Ok: queued as %s\r\n" % queue_id.encode()),
    ]
    return steps


def pipelined_transaction(mail_from, rcpts, msg, queue_id):
    """RFC 2920: MAIL, every RCPT and DATA in one segment; the replies in one segment."""
    cmds = b"MAIL FROM:<%s>\r\n" % mail_from.encode()
    cmds += b"".join(b"RCPT TO:<%s>\r\n" % r.encode() for r in rcpts)
    cmds += b"DATA\r\n"
    replies = b"250 2.1.0 Ok\r\n" + b"250 2.1.5 Ok\r\n" * len(rcpts)
    replies += b"354 End data with <CR><LF>.<CR><LF>\r\n"
    return [
        ("C", cmds),
        ("S", replies),
        ("C", dot_stuff(msg)),
        ("S", b"250 2.0.0 Ok: queued as %s\r\n" % queue_id.encode()),
    ]


def quit_():
    return [("C", b"QUIT\r\n"), ("S", b"221 2.0.0 Bye\r\n")]


# ---------------------------------------------------------------- packet writer

class Capture:
    """Packets with their timestamps, in order; 1 ms apart over the whole file."""

    def __init__(self):
        self.records = []
        self.ip_id = {}

    def add(self, src, dst, sport, dport, flags, seq, ack, payload=b"", mss=False):
        ident = self.ip_id.get(src[0], 0x1000)
        self.ip_id[src[0]] = (ident + 1) & 0xFFFF
        opts = [("MSS", MSS)] if mss else []
        pkt = (Ether(src=src[1], dst=dst[1]) /
               IP(src=src[0], dst=dst[0], ttl=64, id=ident, flags="DF") /
               TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack,
                   window=WINDOW, options=opts))
        if payload:
            pkt = pkt / payload
        usec = len(self.records) * STEP_USEC
        self.records.append((START_SEC + usec // 1000000, usec % 1000000, bytes(pkt)))

    def session(self, s, index):
        c = (s["client"][0], "02:00:0a:0a:%02x:%02x" % (1 + ((index + 1) >> 8) & 0xFF, (index + 1) & 0xFF))
        v = (s["server"][0], "02:00:0a:0a:00:19")
        cport, sport = s["client"][1], s["server"][1]
        # Fixed ISNs: different per session, far from zero and from each other.
        seq = {"C": (0x1A2B0000 + index * 0x01000000) & 0xFFFFFFFF,
               "S": (0x8C4D0000 + index * 0x01000000) & 0xFFFFFFFF}
        ends = {"C": (c, v, cport, sport), "S": (v, c, sport, cport)}

        def send(side, flags, payload=b"", mss=False):
            other = "S" if side == "C" else "C"
            src, dst, sp, dp = ends[side]
            self.add(src, dst, sp, dp, flags, seq[side], seq[other], payload, mss)
            seq[side] = (seq[side] + len(payload) + (1 if ("S" in flags or "F" in flags) else 0)) \
                & 0xFFFFFFFF

        # Handshake: the SYN's ack field is 0.
        src, dst, sp, dp = ends["C"]
        self.add(src, dst, sp, dp, "S", seq["C"], 0, mss=True)
        seq["C"] += 1
        send("S", "SA", mss=True)
        send("C", "A")

        steps = s["dialogue"]
        for i, (side, data) in enumerate(steps):
            other = "S" if side == "C" else "C"
            segs = [data[o:o + MSS] for o in range(0, len(data), MSS)]
            for n, seg in enumerate(segs):
                last = n == len(segs) - 1
                send(side, "PA" if last else "A", seg)
                # The receiver ACKs every second segment of a long send, and the end of a
                # send unless its own next step (which carries the ACK) follows at once.
                next_is_other = i + 1 < len(steps) and steps[i + 1][0] == other
                if (not last and n % 2 == 1) or (last and not next_is_other):
                    send(other, "A")

        # The server closes after its 221; the client ACKs it with its own FIN.
        send("S", "FA")
        send("C", "FA")
        send("S", "A")

    def pcap(self, cut_at=None):
        """The file; with cut_at, it ends halfway through the data of record cut_at."""
        out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for n, (sec, usec, data) in enumerate(self.records):
            out += struct.pack("<IIII", sec, usec, len(data), len(data))
            if n == cut_at:
                return bytes(out + data[:len(data) // 2])
            out += data
        return bytes(out)


# ---------------------------------------------------------------- scenarios

NEWSLETTER = message([
    ("From", "Corp Deals <deals@corp.example>"),
    ("To", "<optedout@customer.example>"),
    ("Subject", "June deals for our customers"),
    ("Date", DATE),
    ("Message-ID", "<20240603100000.a1@corp.example>"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain; charset=utf-8"),
    ("X-Mailer", "Corp Newsletter 2.1"),
    ("List-Unsubscribe", "<mailto:unsubscribe@corp.example?subject=unsubscribe>, "
     "<https://corp.example/unsubscribe?u=4f1c>"),
    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
], """Hello,

Our June deals are here: 20% off every annual plan until June 30.
See https://corp.example/deals/june for the details.

You receive this newsletter because you are a customer of Corp Example.
Unsubscribe at any time: https://corp.example/unsubscribe?u=4f1c

Corp Example Inc., 123 Main Street, Springfield, IL 62701, USA
""")

ADVANCE_FEE = message([
    ("From", "Mr. Barrister <barrister@ws12.corp.example>"),
    ("To", "<someone@partner.example>"),
    ("Subject", "FREE MONEY waiting for you"),
    ("Date", DATE),
    ("Message-ID", "<20240603100001.b1@ws12.corp.example>"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain; charset=us-ascii"),
], """Dear friend,

A sum of USD 4,500,000 is waiting for you. To release it we only need the
wire transfer fee of USD 250, payable today.

Reply with your bank details.
""")

BACKUP_REPORT = message([
    ("From", "backup@ws13.corp.example"),
    ("To", "ops@corp.example"),
    ("Subject", "Nightly backup report"),
    ("Date", DATE),
    ("Message-ID", "<20240603100002.c1@ws13.corp.example>"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain; charset=us-ascii"),
], """Nightly backup finished at 02:14 UTC.

Volumes: 12 of 12 completed, 0 failed.
Transferred: 48.2 GiB in 1 h 52 min.
Next run: 2024-06-04 00:30 UTC.
""")

WEEKLY_STATUS = message([
    ("From", "Pat Lee <pat@corp.example>"),
    ("To", "Alice <alice@corp.example>"),
    ("Subject", "Weekly status"),
    ("Date", DATE),
    ("Message-ID", "<20240603100003.c2@corp.example>"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain; charset=us-ascii"),
], """Hi Alice,

Done: mail relay migration, monitoring dashboards.
Next: certificate renewal on Thursday.

Pat
""")


def quarterly_body():
    """About 6 KB of plain text, with one line that needs dot-stuffing."""
    lines = ["Hi Bob,", "", "Here are the quarterly numbers, region by region.", ""]
    regions = ["North", "South", "East", "West", "Central", "Overseas"]
    for q in range(1, 5):
        lines.append("Quarter %d" % q)
        for i, r in enumerate(regions):
            lines.append("  %-9s revenue %9d  cost %9d  margin %5.1f%%  headcount %4d"
                         % (r, 100000 * (q + i) + 12345 * i, 70000 * (q + i) + 999 * q,
                            100.0 * (30000 * (q + i) + 12345 * i - 999 * q)
                            / (100000 * (q + i) + 12345 * i), 40 + 3 * i + q))
        lines.append("  Notes: figures are unaudited; currency conversion at month-end rates.")
        lines.append("")
    lines.append(".totals are in the attached sheet (this line starts with a dot).")
    lines.append("")
    para = ("Commentary: growth came mostly from renewals; new business was flat in the "
            "first half and picked up after the pricing change.")
    while sum(len(l) + 2 for l in lines) < 6000:
        lines.append(para)
    lines += ["", "Regards,", "Finance"]
    return "\n".join(lines) + "\n"


QUARTERLY = message([
    ("From", "Finance <finance@corp.example>"),
    ("To", "bob@corp.example, former@customer.example"),
    ("Subject", "Quarterly numbers"),
    ("Date", DATE),
    ("Message-ID", "<20240603100004.d1@corp.example>"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain; charset=us-ascii"),
], quarterly_body())


def session_a():
    return {
        "client": ("10.10.1.11", 40011), "server": RELAY,
        "dialogue": greeting() + ehlo("ws11.corp.example")
        + transaction("deals@corp.example", ["optedout@customer.example"], NEWSLETTER,
                      "4VtA1A0001")
        + quit_(),
    }


def session_b():
    return {
        "client": ("10.10.1.12", 40012), "server": RELAY,
        "dialogue": greeting() + ehlo("ws12.corp.example")
        + transaction("barrister@ws12.corp.example", ["someone@partner.example"], ADVANCE_FEE,
                      "4VtA1B0002")
        + quit_(),
    }


def session_c():
    return {
        "client": ("10.10.1.13", 40013), "server": RELAY,
        "dialogue": greeting() + ehlo("ws13.corp.example")
        + transaction("backup@ws13.corp.example", ["ops@corp.example"], BACKUP_REPORT,
                      "4VtA1C0003")
        + transaction("pat@corp.example", ["alice@corp.example"], WEEKLY_STATUS, "4VtA1C0004")
        + quit_(),
    }


def session_d():
    return {
        "client": ("10.10.1.14", 40014), "server": RELAY,
        "dialogue": greeting() + ehlo("ws14.corp.example")
        + pipelined_transaction("finance@corp.example",
                                ["bob@corp.example", "former@customer.example"], QUARTERLY,
                                "4VtA1D0005")
        + quit_(),
    }


def promo_message():
    """A marketing mail as ESPs send them (about 40 KB): multipart/mixed holding a
    multipart/alternative (quoted-printable text and HTML with tracked links) and a base64
    PDF attachment. The bench's MIME load: every byte is transfer-decoded."""
    import base64
    import random
    rnd = random.Random(7)
    links = ["https://click.esp.example/t/%d?u=%08x&amp;c=spring" % (i, rnd.getrandbits(32))
             for i in range(12)]
    html = "".join('<p style=3D"margin:0">Deal %d: <a href=3D"%s">50%%=\n off</a></p>\n'
                   % (i, l) for i, l in enumerate(links)) * 8
    text = "".join("Deal %d: %s =E2=80=94 50%% off this week=\nend only\n"
                   % (i, l.replace("&amp;", "&")) for i, l in enumerate(links)) * 6
    pdf = bytes(rnd.getrandbits(8) for _ in range(18000))
    b64 = base64.encodebytes(pdf).decode()
    body = ("--mixed-1\nContent-Type: multipart/alternative; boundary=\"alt-1\"\n\n"
            "--alt-1\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n" + text +
            "\n--alt-1\nContent-Type: text/html; charset=utf-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n" + html +
            "\n--alt-1--\n\n--mixed-1\nContent-Type: application/pdf; name=\"offer.pdf\"\n"
            "Content-Disposition: attachment; filename*=UTF-8''spring%20offer.pdf\n"
            "Content-Transfer-Encoding: base64\n\n" + b64 + "--mixed-1--\n")
    return message([
        ("From", "=?utf-8?Q?Spring_Sale?= <news@shop.example>"),
        ("To", "customer@customer.example"),
        ("Subject", "=?utf-8?B?U3ByaW5nIHNhbGUg4oCUIDUwJSBvZmY=?="),
        ("Date", DATE),
        ("Message-ID", "<promo.1@shop.example>"),
        ("MIME-Version", "1.0"),
        ("List-Unsubscribe", "<https://shop.example/u/1>"),
        ("Content-Type", "multipart/mixed; boundary=\"mixed-1\""),
    ], body)


def session_e():
    return {
        "client": ("10.10.1.15", 40015), "server": RELAY,
        "dialogue": greeting() + ehlo("mailer15.corp.example")
        + pipelined_transaction("news@shop.example", ["customer@customer.example"],
                                promo_message(), "4VtA1E0006")
        + quit_(),
    }


def build_demo():
    cap = Capture()
    for i, s in enumerate([session_a(), session_b(), session_c(), session_d()]):
        cap.session(s, i)
    return cap.pcap()


def build_bad():
    cap = Capture()
    cap.session(session_b(), 1)
    first_c = len(cap.records)
    cap.session(session_c(), 2)
    # Cut inside the first record of session (c) that carries message text.
    for n in range(first_c, len(cap.records)):
        if b"Nightly backup report" in cap.records[n][2]:
            return cap.pcap(cut_at=n)
    raise RuntimeError("bad scenario: message segment not found")


BENCH_TEMPLATES = {"a": session_a, "b": session_b, "c": session_c, "d": session_d,
                   "e": session_e}


def build_bench(n_sessions, mix="abcde"):
    """The demo's four sessions (a-d) and a MIME-heavy marketing mail (e) over and over, in
    the order `mix` names them, each copy from its own client address and port, so that
    every copy is a new flow: a capture for scripts/bench."""
    cap = Capture()
    templates = [BENCH_TEMPLATES[t] for t in mix]
    for i in range(n_sessions):
        s = templates[i % len(templates)]()
        s["client"] = ("10.%d.%d.%d" % (20 + i // 65536, i // 256 % 256, i % 256 or 1),
                       20000 + i % 40000)
        cap.session(s, i)
    return cap.pcap()


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn_frame(src, sport, dst, dport, seq):
    """A SYN built by hand (scapy is too slow for a flood): Ethernet, IPv4, TCP with MSS."""
    saddr = bytes(int(x) for x in src.split("."))
    daddr = bytes(int(x) for x in dst.split("."))
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 6 << 4, 0x02, WINDOW, 0, 0)
    tcp += struct.pack("!BBH", 2, 4, MSS)
    pseudo = saddr + daddr + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, saddr, daddr)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = bytes.fromhex("02000a0a0019" "02000a0b0001") + b"\x08\x00"
    return eth + ip + tcp


def build_synflood(syns_per_packet):
    """The demo's sessions with a SYN flood to the relay's port 25 woven through them: after
    every packet of the demo, `syns_per_packet` SYNs from ever new spoofed sources that never
    complete the handshake. 20 us apart, so the whole flood lasts a second or two."""
    cap = Capture()
    for i, s in enumerate([session_a(), session_b(), session_c(), session_d()]):
        cap.session(s, i)
    records = []
    n = 0
    for rec in cap.records:
        records.append(rec[2])
        for _ in range(syns_per_packet):
            src = "172.%d.%d.%d" % (16 + n // 65536 % 16, n // 256 % 256, n % 256 or 1)
            records.append(syn_frame(src, 1024 + n % 60000, RELAY[0], 25, n * 7919))
            n += 1
    cap.records = [(START_SEC + n * 20 // 1000000, n * 20 % 1000000, data)
                   for n, data in enumerate(records)]
    return cap.pcap()


def build_portreuse():
    """Session (b) whose close the sensor never saw (its last three packets, FINs and ACK,
    are missing), then the same client port connecting again with a new ISN for session (b)
    once more: the second connection must be inspected as a new flow."""
    cap = Capture()
    cap.session(session_b(), 1)
    first = cap.records[:-3]
    cap.records = []
    cap.session(session_b(), 0)  # an ISN below the first one's: its data looks old
    second = cap.records
    cap.records = [(START_SEC + n // 1000, (n % 1000) * 1000, rec[2])
                   for n, rec in enumerate(first + second)]
    return cap.pcap()


# The suppression case: who is subject to the opt-out list, and why (tests/pcap/suppress).
def suppress_sessions():
    news = message([
        ("From", "Weekly News <news@news.example.com>"),
        ("To", "optedout@customer.example, Header Only <hdronly@customer.example>"),
        ("Subject", "This week at News"),
        ("Date", DATE),
        ("Message-ID", "<weekly.23@news.example.com>"),
        ("List-Id", "Weekly News <weekly.news.example.com>"),
        ("List-Unsubscribe", "<https://news.example.com/u?l=weekly>"),
        ("Precedence", "bulk"),
    ], "Our stories this week.\n")
    receipt = message([
        ("From", "Billing <billing@billing.example.com>"),
        ("To", "optedout@customer.example"),
        ("Subject", "Your receipt 1042"),
        ("Date", DATE),
        ("Message-ID", "<r1042@billing.example.com>"),
    ], "Thank you for your payment.\n")
    note = message([
        ("From", "ops@corp.example"),
        ("To", "optedout@customer.example, late@customer.example"),
        ("Subject", "Maintenance window"),
        ("Date", DATE),
        ("Message-ID", "<mw.7@corp.example>"),
    ], "The portal is down on Saturday.\n")
    deals = message([
        ("From", "Deals <deals@corp.example>"),
        ("To", "undisclosed-recipients:;"),
        ("Subject", "June deals"),
        ("Date", DATE),
        ("Message-ID", "<deals.6@corp.example>"),
        ("List-Unsubscribe", "<mailto:unsubscribe@corp.example>"),
    ], "Everything half price.\n")
    return [
        {"client": ("10.10.2.21", 40021), "server": RELAY,
         "dialogue": greeting() + ehlo("mailer21.corp.example")
         + transaction("news@news.example.com",
                       ["optedout@customer.example", "clean@customer.example",
                        "listonly@customer.example", "senderonly@customer.example",
                        "someone@blocked.example"], news, "4VtB2A0001")
         + quit_()},
        {"client": ("10.10.2.22", 40022), "server": RELAY,
         "dialogue": greeting() + ehlo("billing22.corp.example")
         + transaction("billing@billing.example.com", ["optedout@customer.example"], receipt,
                       "4VtB2B0002")
         + quit_()},
        {"client": ("10.10.2.23", 40023), "server": RELAY,
         "dialogue": greeting() + ehlo("ops23.corp.example")
         + transaction("ops@corp.example",
                       ["optedout@customer.example", "late@customer.example"], note,
                       "4VtB2C0003")
         + quit_()},
        {"client": ("10.10.2.24", 40024), "server": RELAY,
         "dialogue": greeting() + ehlo("mailer24.corp.example")
         + transaction("deals@corp.example",
                       ["late@customer.example", "former@customer.example",
                        "senderonly@customer.example"], deals, "4VtB2D0004")
         + quit_()},
    ]


def build_suppress():
    cap = Capture()
    for i, s in enumerate(suppress_sessions()):
        cap.session(s, i)
    return cap.pcap()


# The bypass case (tests/pcap/bypass): internal hosts mailing through the sanctioned relay,
# around it on 25 and 587, the relay's own delivery out, and a host new to SMTP ten seconds in.
def bypass_sessions():
    note = message([
        ("From", "app@corp.example"),
        ("To", "someone@partner.example"),
        ("Subject", "Nightly export"),
        ("Date", DATE),
        ("Message-ID", "<export.1@corp.example>"),
    ], "The export finished.\n")
    def one(client, server, helo, queue_id):
        return {"client": client, "server": server,
                "dialogue": greeting() + ehlo(helo)
                + transaction("app@corp.example", ["someone@partner.example"], note, queue_id)
                + quit_()}
    return [
        one(("10.10.3.31", 40031), RELAY, "app31.corp.example", "4VtC3A0001"),
        one(("10.10.3.32", 40032), ("198.51.100.7", 25), "app32.corp.example", "4VtC3B0002"),
        one(("10.10.3.33", 40033), ("203.0.113.9", 587), "app33.corp.example", "4VtC3C0003"),
        one(("10.10.0.25", 40025), ("198.51.100.7", 25), RELAY_NAME, "4VtC3D0004"),
        one(("10.10.3.32", 40034), ("198.51.100.7", 25), "app32.corp.example", "4VtC3E0005"),
        one(("10.10.3.35", 40035), RELAY, "new35.corp.example", "4VtC3F0006"),
    ]


def build_bypass():
    cap = Capture()
    sessions = bypass_sessions()
    for i, s in enumerate(sessions[:-1]):
        cap.session(s, i)
    first = len(cap.records)
    cap.session(sessions[-1], len(sessions) - 1)
    # the last host appears ten seconds later, after the learning period of the case
    cap.records = cap.records[:first] + [(sec + 10, usec, data)
                                         for sec, usec, data in cap.records[first:]]
    return cap.pcap()


SCENARIOS = {
    "demo": (build_demo, "tests/pcap/demo/input.pcap"),
    "bypass": (build_bypass, "tests/pcap/bypass/input.pcap"),
    "suppress": (build_suppress, "tests/pcap/suppress/input.pcap"),
    "bad": (build_bad, "tests/pcap/truncated/input.pcap"),
    "portreuse": (build_portreuse, "tests/pcap/portreuse/input.pcap"),
    "bench": (None, "build/bench/bench.pcap"),
    "synflood": (None, "build/synflood.pcap"),
}


def main():
    ap = argparse.ArgumentParser(description="Write a deterministic SMTP pcap.")
    ap.add_argument("--scenario", default="demo", choices=sorted(SCENARIOS))
    ap.add_argument("--out", help="output file (default: the scenario's path in the repo)")
    ap.add_argument("--sessions", type=int, default=2000,
                    help="sessions in the bench scenario (default 2000)")
    ap.add_argument("--bench-mix", default="abcde",
                    help="bench sessions to cycle through, a-e (default abcde; e is the "
                         "40 KB marketing mail)")
    ap.add_argument("--syns", type=int, default=500,
                    help="SYNs after each demo packet in the synflood scenario (default 500)")
    args = ap.parse_args()
    build, default = SCENARIOS[args.scenario]
    ap_syns = args.syns
    if args.scenario == "bench":
        if not args.bench_mix or any(t not in BENCH_TEMPLATES for t in args.bench_mix):
            ap.error("--bench-mix takes letters from abcde")
        build = lambda: build_bench(args.sessions, args.bench_mix)
    elif args.scenario == "synflood":
        build = lambda: build_synflood(ap_syns)
    out = args.out
    if out is None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        out = os.path.join(root, default)
    data = build()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "wb") as f:
        f.write(data)
    print("mkpcap: %s: %d bytes" % (out, len(data)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
