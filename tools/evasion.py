#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Rewrite a capture the way a packet-level evasion tool (fragroute, fragrouter) would.

What Postern inspects must not depend on how the TCP byte streams were cut into packets: this
tool rewrites the TCP segments of every IPv4 flow in a capture so that each direction still
carries exactly the same byte stream (first data wins), but split, reordered, duplicated,
overlapped, fragmented or wrapped around 2^32. Replaying the result must give the same alerts
and smtp events as the original (tests/pcap/run_evasion.sh checks it for the demo capture).

Modes (--mode takes one or several, comma separated; they are always applied in this order):
  wrap          shift each direction's sequence numbers (and the peer's acks) so that its
                stream crosses 2^32 after --wrap-at bytes (default: half of its data)
  split         cut every data segment into pieces of --split-min..--split-max bytes
  reorder       shuffle data segments in windows of --window packets per direction; a window
                never spans a turn of the dialogue (data of the other direction) nor a
                SYN/FIN/RST, so SYN stays first, FIN last, and no reply precedes its command
  overlap-same  after some data segments (--overlap-rate), re-send a range overlapping it with
                other boundaries (up to --overlap-extent bytes before/after) and the SAME bytes
  overlap-diff  after some data segments (--overlap-rate), re-send a range covering it (and up
                to --overlap-extent already-sent bytes before it) with DIFFERENT bytes: first
                data wins, so nothing may change but an evasion event
  duplicate     repeat some data segments (--dup-rate), up to --dup-distance packets of their
                flow later, never past the flow's first FIN/RST
  drop-ack-only remove every pure ACK (no data, no SYN/FIN/RST)
  fragment      cut every IPv4 packet carrying TCP data into fragments of --frag-size bytes of
                IP payload (a multiple of 8), sent --frag-order in|reverse|random
After the TCP modes, an ACK that would acknowledge bytes its sender has not yet received in
order (a reordered hole) is lowered to the first missing byte; IPv4 ids are renumbered per
source address in output order (split pieces and retransmissions are new datagrams; fragments
of one datagram share its id); IP lengths and IP/TCP checksums are recomputed by scapy;
timestamps are made strictly increasing (a packet keeps its slot's time, or one tick after the
previous packet if that is later).

Only IPv4/TCP over Ethernet is rewritten; other packets are copied unchanged. The input is a
classic libpcap file (micro- or nanosecond, either byte order); the output uses the input's
resolution and is written by hand, like tools/mkpcap.py, so that it is byte-identical from run
to run for a given --seed. It does not rewrite IPv6, TCP options/timestamps (PAWS), or inject
RSTs or bad checksums.

Usage (from the repository root):
  /usr/bin/python3 tools/evasion.py --in IN.pcap --out OUT.pcap --mode MODE[,MODE...]
        [--seed N] [--split-min N] [--split-max N] [--window N] [--dup-rate P]
        [--dup-distance N] [--overlap-rate P] [--overlap-extent N] [--wrap-at N]
        [--frag-size N] [--frag-order in|reverse|random]
  /usr/bin/python3 tools/evasion.py --regenerate
  /usr/bin/python3 tools/evasion.py --verify
--regenerate rewrites every tests/pcap/evasion-<case>/ (input.pcap from
tests/pcap/demo/input.pcap with the parameters in CASES below, and a copy of the demo's
suppress.csv); run tools/mkpcap.py first if the demo capture itself changed.
--verify checks with tshark that every case still is valid TCP carrying the demo's byte
streams (Wireshark's own reassembly, out-of-order segments accepted where a case reorders),
and compares the SMTP commands and subjects Wireshark's dissectors show.
"""

import argparse
import os
import random
import shutil
import struct
import subprocess
import sys

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Padding, Raw

MODES = ["wrap", "split", "reorder", "overlap-same", "overlap-diff", "duplicate",
         "drop-ack-only", "fragment"]

F_FIN, F_SYN, F_RST, F_PSH, F_ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SEQ_MOD = 1 << 32

# The golden cases derived from the demo capture: name -> (modes, parameter overrides).
CASES = {
    "split": ("split", {"split_min": 1, "split_max": 8}),
    # The demo's sends are mostly one segment each: cut them into ordinary-sized pieces
    # first so that every session has something to reorder.
    "reorder": ("split,reorder", {"split_min": 100, "split_max": 400, "window": 8}),
    "duplicate": ("duplicate", {"dup_rate": 0.5}),
    "overlap-same": ("overlap-same", {"overlap_rate": 0.5}),
    # Every data segment is followed by a fake: were the last data to win, every session's
    # envelope and message would change.
    "overlap-diff": ("overlap-diff", {"overlap_rate": 1.0}),
    "wrap": ("wrap", {}),
    "fragment": ("fragment", {"frag_size": 16, "frag_order": "random"}),
    "drop-ack-only": ("drop-ack-only", {}),
    "split-reorder-duplicate": ("split,reorder,duplicate",
                                {"split_min": 1, "split_max": 8, "window": 8,
                                 "dup_rate": 0.2}),
    "all": ("wrap,split,reorder,overlap-same,overlap-diff,duplicate,fragment",
            {"split_min": 8, "split_max": 64, "window": 6, "dup_rate": 0.2,
             "overlap_rate": 0.3, "frag_size": 24}),
}
CASE_SEED = 20240603


# ---------------------------------------------------------------- pcap in and out

class Capture:
    """A classic pcap file: its header fields and a list of Item."""

    def __init__(self, endian, nsec, snaplen, linktype):
        self.endian, self.nsec, self.snaplen, self.linktype = endian, nsec, snaplen, linktype
        self.items = []


class Item:
    """One packet: its time in ticks (us or ns), the scapy packet (None when it is not
    IPv4/TCP over Ethernet: then raw holds the bytes), and what made it."""

    def __init__(self, ts, pkt=None, raw=None, kind="orig"):
        self.ts, self.pkt, self.raw, self.kind = ts, pkt, raw, kind

    def copy(self, kind):
        return Item(self.ts, self.pkt.copy(), None, kind)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: not a pcap file (too short)" % path)
    magic_le = struct.unpack("<I", data[:4])[0]
    magic_be = struct.unpack(">I", data[:4])[0]
    for endian, magic in (("<", magic_le), (">", magic_be)):
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        raise ValueError("%s: not a classic pcap file (pcapng is not supported)" % path)
    _, _, _, _, snaplen, linktype = struct.unpack(endian + "HHiIII", data[4:24])
    cap = Capture(endian, magic == 0xA1B23C4D, snaplen, linktype)
    scale = 1000000000 if cap.nsec else 1000000
    off = 24
    while off < len(data):
        if off + 16 > len(data):
            raise ValueError("%s: truncated record header at byte %d" % (path, off))
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            raise ValueError("%s: truncated record at byte %d" % (path, off))
        raw = data[off:off + incl]
        off += incl
        cap.items.append(classify(sec * scale + frac, raw, linktype))
    return cap


def classify(ts, raw, linktype):
    if linktype == 1:
        pkt = Ether(raw)
        if IP in pkt and TCP in pkt and pkt[IP].frag == 0 and not pkt[IP].flags.MF:
            # Ethernet padding (a pure ACK is padded to 60 bytes) is not payload: once a
            # mode rewrites the packet and scapy recomputes the IP length, it would become
            # six bytes of TCP data that the real stream never had.
            if Padding in pkt:
                pkt[Padding].underlayer.remove_payload()
            return Item(ts, pkt)
    return Item(ts, None, raw)


def write_pcap(path, cap):
    e = cap.endian
    scale = 1000000000 if cap.nsec else 1000000
    magic = 0xA1B23C4D if cap.nsec else 0xA1B2C3D4
    out = bytearray(struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, cap.snaplen, cap.linktype))
    for it in cap.items:
        data = it.raw if it.pkt is None else bytes(it.pkt)
        out += struct.pack(e + "IIII", it.ts // scale, it.ts % scale, len(data), len(data))
        out += data
    with open(path, "wb") as f:
        f.write(out)
    return len(out)


# ---------------------------------------------------------------- TCP helpers

def dkey(it):
    """Direction key of a TCP item, or None."""
    if it.pkt is None:
        return None
    ip, tcp = it.pkt[IP], it.pkt[TCP]
    return (ip.src, tcp.sport, ip.dst, tcp.dport)


def fkey(d):
    """Flow key: the same for both directions."""
    return min(d, (d[2], d[3], d[0], d[1]))


def rev(d):
    return (d[2], d[3], d[0], d[1])


def flags(it):
    return int(it.pkt[TCP].flags)


def payload(it):
    """TCP payload bytes, bounded by the IP total length (no Ethernet padding)."""
    ip = it.pkt[IP]
    raw = bytes(ip)
    total = min(ip.len if ip.len is not None else len(raw), len(raw))
    tcp_off = ip.ihl * 4 + it.pkt[TCP].dataofs * 4
    return raw[tcp_off:total]


def is_data(it):
    return it.pkt is not None and len(payload(it)) > 0


def segment(template, seq, data, fl, kind):
    """A copy of template carrying data at seq with flags fl; lengths and checksums to redo."""
    pkt = template.pkt.copy()
    tcp = pkt[TCP]
    tcp.remove_payload()
    tcp.seq = seq % SEQ_MOD
    tcp.flags = fl
    if data:
        tcp.add_payload(Raw(data))
    return Item(template.ts, fix(pkt), None, kind)


def fix(pkt):
    """Let scapy recompute IP length and checksums when the packet is next built."""
    del pkt[IP].len
    del pkt[IP].chksum
    del pkt[TCP].chksum
    return pkt


class Stream:
    """One direction's byte stream, indexed by offset from its first byte (base seq)."""

    def __init__(self, base):
        self.base = base
        self.data = bytearray()
        self.have = bytearray()

    def rel(self, seq):
        return (seq - self.base) % SEQ_MOD

    def add(self, seq, data):
        o = self.rel(seq)
        if o >= SEQ_MOD // 2:   # before the base: a keep-alive or garbage, ignore
            return
        end = o + len(data)
        if end > len(self.data):
            self.data.extend(b"\0" * (end - len(self.data)))
            self.have.extend(b"\0" * (end - len(self.have)))
        for i, b in enumerate(data):
            if not self.have[o + i]:     # first data wins
                self.data[o + i] = b
                self.have[o + i] = 1

    def complete(self, lo, hi):
        return 0 <= lo < hi <= len(self.have) and all(self.have[lo:hi])


def streams(items):
    """Direction key -> Stream, base at the SYN's seq + 1 or the first data seq."""
    out = {}
    for it in items:
        d = dkey(it)
        if d is None:
            continue
        tcp = it.pkt[TCP]
        if d not in out:
            if flags(it) & F_SYN:
                out[d] = Stream((tcp.seq + 1) % SEQ_MOD)
            elif is_data(it):
                out[d] = Stream(tcp.seq)
            else:
                continue
        data = payload(it)
        if data:
            out[d].add(tcp.seq + (1 if flags(it) & F_SYN else 0), data)
    return out


def runs(items):
    """Lists of indices of data items that one side sent in one turn of the dialogue: a run
    ends at the other side's data and at any SYN/FIN/RST of the flow. Items with SYN/FIN/RST
    are never part of a run."""
    current = {}     # flow key -> (direction, [indices])
    done = []
    for i, it in enumerate(items):
        d = dkey(it)
        if d is None:
            continue
        f = fkey(d)
        ctl = flags(it) & (F_SYN | F_FIN | F_RST)
        if ctl or (is_data(it) and f in current and current[f][0] != d):
            if f in current:
                done.append(current.pop(f)[1])
        if ctl or not is_data(it):
            continue
        current.setdefault(f, (d, []))[1].append(i)
    done.extend(r for _, r in current.values())
    return [r for r in done if r]


def genuine(it):
    """Data that belongs to the stream (not a copy we added)."""
    return it.kind in ("orig", "piece")


# ---------------------------------------------------------------- the modes

def do_wrap(items, rng, args):
    st = streams(items)
    delta = {}
    for d, s in st.items():
        at = args.wrap_at if args.wrap_at is not None else max(1, len(s.data) // 2)
        # The byte at offset `at` gets sequence number 0 (2^32).
        delta[d] = (SEQ_MOD - at - s.base) % SEQ_MOD
    for it in items:
        d = dkey(it)
        if d is None:
            continue
        tcp = it.pkt[TCP]
        tcp.seq = (tcp.seq + delta.get(d, 0)) % SEQ_MOD
        if flags(it) & F_ACK:
            tcp.ack = (tcp.ack + delta.get(rev(d), 0)) % SEQ_MOD
        fix(it.pkt)
    return items


def do_split(items, rng, args):
    out = []
    for it in items:
        if not is_data(it) or flags(it) & (F_SYN | F_RST):
            out.append(it)
            continue
        data, fl, seq = payload(it), flags(it), it.pkt[TCP].seq
        o = 0
        while o < len(data):
            n = rng.randint(args.split_min, args.split_max)
            last = o + n >= len(data)
            pf = fl if last else fl & ~(F_PSH | F_FIN)
            out.append(segment(it, seq + o, data[o:o + n], pf,
                               it.kind if it.kind != "orig" else "piece"))
            o += n
    return out


def do_reorder(items, rng, args):
    for r in runs(items):
        for w in range(0, len(r), args.window):
            slots = r[w:w + args.window]
            moved = [items[i] for i in slots]
            times = [it.ts for it in moved]    # the times stay with the slots
            rng.shuffle(moved)
            for i, t, it in zip(slots, times, moved):
                it.ts = t
                items[i] = it
    return items


def overlap_insert(items, rng, args, diff):
    """After some genuine data segments, a segment overlapping it (see the modes above)."""
    st = streams(items)
    run_end = {}
    for r in runs(items):
        end = 0
        for i in r:
            d = dkey(items[i])
            end = max(end, st[d].rel(items[i].pkt[TCP].seq) + len(payload(items[i])))
        for i in r:
            run_end[i] = end
    sent = {d: bytearray(len(s.data)) for d, s in st.items()}
    out = []
    for i, it in enumerate(items):
        out.append(it)
        if not is_data(it) or dkey(it) not in st:
            continue
        d = dkey(it)
        s = st[d]
        lo = s.rel(it.pkt[TCP].seq)
        hi = lo + len(payload(it))
        if lo >= len(s.data) or hi > len(s.data):
            continue
        if genuine(it) or it.kind == "overlap":
            sent[d][lo:hi] = b"\1" * (hi - lo)
        if not genuine(it) or i not in run_end or rng.random() >= args.overlap_rate:
            continue
        k = args.overlap_extent
        if diff:
            # Cover the segment and already-sent bytes just before it: none of these may be
            # delivered from the fake, since the genuine bytes all came first.
            x = lo - rng.randint(0, k)
            x = max(x, 0)
            while x < lo and not all(sent[d][x:lo]):
                x += 1
            y = hi
            fake = bytes(rng.choice([c for c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopq"
                                     if c != b]) for b in s.data[x:y])
            out.append(segment(it, s.base + x, fake, F_ACK | F_PSH, "fake"))
            continue
        # Same bytes, other boundaries: start and end each move by up to k bytes either
        # way, between the stream's start and the end of this turn of the dialogue (bytes
        # sent only after the peer's reply must not show up before it).
        n = hi - lo
        x = max(0, lo - rng.randint(-min(k, n - 1), k))
        y = min(run_end[i], hi + rng.randint(-min(k, n - 1), k))
        if (x, y) == (lo, hi):
            if x > 0:
                x -= 1
            elif y < run_end[i]:
                y += 1
        if x >= y or y <= lo or x >= hi or (x, y) == (lo, hi) or not s.complete(x, y):
            continue
        out.append(segment(it, s.base + x, bytes(s.data[x:y]), F_ACK | F_PSH, "overlap"))
    return out


def do_overlap_same(items, rng, args):
    return overlap_insert(items, rng, args, diff=False)


def do_overlap_diff(items, rng, args):
    return overlap_insert(items, rng, args, diff=True)


def do_duplicate(items, rng, args):
    after = {}   # index -> copies to insert after it
    for i, it in enumerate(items):
        if not is_data(it) or not genuine(it) or rng.random() >= args.dup_rate:
            continue
        f = fkey(dkey(it))
        want = rng.randint(0, args.dup_distance)
        pos, seen = i, 0
        for j in range(i + 1, len(items)):
            d = dkey(items[j])
            if d is None or fkey(d) != f:
                continue
            if flags(items[j]) & (F_FIN | F_RST) or seen == want:
                break
            pos, seen = j, seen + 1
        after.setdefault(pos, []).append(it.copy("dup"))
    out = []
    for i, it in enumerate(items):
        out.append(it)
        for c in after.get(i, []):
            c.ts = it.ts
            out.append(c)
    return out


def do_drop_ack_only(items, rng, args):
    return [it for it in items
            if it.pkt is None or is_data(it) or flags(it) & (F_SYN | F_FIN | F_RST)]


def fix_acks(items):
    """A receiver cannot acknowledge what it has not received in order: once segments are
    reordered, an ACK that stayed in its slot may point past a hole (Wireshark then calls the
    hole lost). Lower every such ack to the receiver's next expected byte, as a real receiver
    would have sent it (a duplicate ACK); acks that were consistent are left alone."""
    st = streams(items)
    have = {d: bytearray(len(s.data)) for d, s in st.items()}
    nxt = {d: 0 for d in st}
    fin_at = {}
    for it in items:
        d = dkey(it)
        if d is None:
            continue
        fl = flags(it)
        if d in st:
            s, data = st[d], payload(it)
            lo = s.rel(it.pkt[TCP].seq + (1 if fl & F_SYN else 0))
            if data and lo < len(s.data):
                have[d][lo:lo + len(data)] = b"\1" * min(len(data), len(s.data) - lo)
                while nxt[d] < len(s.data) and have[d][nxt[d]]:
                    nxt[d] += 1
            if fl & F_FIN:
                fin_at[d] = lo + len(data)
        peer = rev(d)
        if not fl & F_ACK or peer not in st:
            continue
        allowed = nxt[peer] + (1 if fin_at.get(peer) == nxt[peer] else 0)
        ack = st[peer].rel(it.pkt[TCP].ack)
        if allowed < ack < SEQ_MOD // 2:
            it.pkt[TCP].ack = (st[peer].base + allowed) % SEQ_MOD
            fix(it.pkt)


def renumber_ip_ids(items):
    ids = {}
    for it in items:
        if it.pkt is None:
            continue
        ip = it.pkt[IP]
        n = ids.setdefault(ip.src, ip.id)
        ip.id = n
        ids[ip.src] = (n + 1) & 0xFFFF
        del ip.chksum


def do_fragment(items, rng, args):
    out = []
    for it in items:
        if not is_data(it):
            out.append(it)
            continue
        built = Ether(bytes(it.pkt))    # checksums final before the TCP header is cut
        ip = built[IP]
        body = bytes(ip)[ip.ihl * 4:ip.len]
        if len(body) <= args.frag_size:
            out.append(it)
            continue
        frags = []
        for o in range(0, len(body), args.frag_size):
            last = o + args.frag_size >= len(body)
            f = built.copy()
            fip = f[IP]
            fip.remove_payload()
            fip.flags = 0 if last else "MF"
            fip.frag = o // 8
            fip.proto = 6
            fip.add_payload(Raw(body[o:o + args.frag_size]))
            del fip.len
            del fip.chksum
            frags.append(Item(it.ts, None, bytes(f), "frag"))
        if args.frag_order == "reverse":
            frags.reverse()
        elif args.frag_order == "random":
            rng.shuffle(frags)
        out.extend(frags)
    return out


def restamp(items):
    prev = None
    for it in items:
        if prev is not None and it.ts <= prev:
            it.ts = prev + 1
        prev = it.ts


STEPS = {
    "wrap": do_wrap, "split": do_split, "reorder": do_reorder,
    "overlap-same": do_overlap_same, "overlap-diff": do_overlap_diff,
    "duplicate": do_duplicate, "drop-ack-only": do_drop_ack_only, "fragment": do_fragment,
}


def transform(cap, modes, args):
    items = cap.items
    for m in MODES:
        if m not in modes:
            continue
        if m == "fragment":
            fix_acks(items)
            renumber_ip_ids(items)
        # Each mode has its own generator, so adding a mode leaves the others' choices alone.
        rng = random.Random("%d:%s" % (args.seed, m))
        items = STEPS[m](items, rng, args)
    if "fragment" not in modes:
        fix_acks(items)
        renumber_ip_ids(items)
    restamp(items)
    cap.items = items
    return cap


# ---------------------------------------------------------------- command line

def parse_modes(text):
    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise argparse.ArgumentTypeError("unknown mode %s (modes: %s)"
                                         % (",".join(bad) or "''", ", ".join(MODES)))
    return modes


def check_args(ap, args):
    if not 1 <= args.split_min <= args.split_max:
        ap.error("--split-min and --split-max: 1 <= min <= max")
    if args.window < 2:
        ap.error("--window must be at least 2")
    if args.frag_size < 8 or args.frag_size % 8:
        ap.error("--frag-size must be a positive multiple of 8")
    for name in ("dup_rate", "overlap_rate"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            ap.error("--%s must be between 0 and 1" % name.replace("_", "-"))
    if args.dup_distance < 0 or args.overlap_extent < 0:
        ap.error("--dup-distance and --overlap-extent must not be negative")
    if args.wrap_at is not None and args.wrap_at < 0:
        ap.error("--wrap-at must not be negative")


def regenerate(ap):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    demo = os.path.join(root, "tests", "pcap", "demo")
    for name, (modes, params) in CASES.items():
        args = ap.parse_args(["--mode", modes, "--seed", str(CASE_SEED)])
        for k, v in params.items():
            setattr(args, k, v)
        check_args(ap, args)
        cap = transform(read_pcap(os.path.join(demo, "input.pcap")), args.mode, args)
        out_dir = os.path.join(root, "tests", "pcap", "evasion-" + name)
        os.makedirs(out_dir, exist_ok=True)
        n = write_pcap(os.path.join(out_dir, "input.pcap"), cap)
        shutil.copyfile(os.path.join(demo, "suppress.csv"), os.path.join(out_dir, "suppress.csv"))
        print("evasion: tests/pcap/evasion-%s/input.pcap: %d packets, %d bytes (%s)"
              % (name, len(cap.items), n, modes), file=sys.stderr)
    return 0


# ---------------------------------------------------------------- checking with tshark

def tshark(path, ooo, *args):
    cmd = ["tshark", "-r", path]
    if ooo:
        cmd += ["-o", "tcp.reassemble_out_of_order:TRUE"]
    res = subprocess.run(cmd + list(args), capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("tshark failed on %s: %s" % (path, res.stderr.strip()[-300:]))
    return res.stdout


def tcp_streams(path, ooo):
    """Wireshark's reassembled bytes of each TCP conversation, both directions."""
    ids = sorted({int(x) for x in tshark(path, ooo, "-T", "fields", "-e", "tcp.stream").split()})
    out = {}
    for n in ids:
        node, data = 0, {0: bytearray(), 1: bytearray()}
        for line in tshark(path, ooo, "-q", "-z", "follow,tcp,raw,%d" % n).splitlines():
            if line.startswith("Node 1:"):
                node = 1
                continue
            if node == 1 and line.strip() and not line.startswith("="):
                data[1 if line.startswith("\t") else 0].extend(bytes.fromhex(line.strip()))
        out[n] = (bytes(data[0]), bytes(data[1]))
    return out


def smtp_view(path, ooo):
    """Per TCP conversation: the client commands with their parameters and the subjects, as
    Wireshark's SMTP and IMF dissectors show them (pipelined commands one by one)."""
    text = tshark(path, ooo, "-Y", "smtp || imf", "-T", "fields", "-e", "tcp.stream",
                  "-e", "smtp.req.command", "-e", "smtp.req.parameter", "-e", "imf.subject")
    view = {}
    for line in text.splitlines():
        stream, cmds, params, subject = (line.split("\t") + [""] * 4)[:4]
        params = params.split(",") if params else []
        got = view.setdefault(int(stream), [])
        for c in cmds.split(",") if cmds else []:
            got.append((c, params.pop(0) if c in ("EHLO", "HELO", "MAIL", "RCPT") and params
                        else ""))
        if subject:
            got.append(("Subject:", subject))
    return view


def verify():
    """Every evasion case must carry, for Wireshark, the demo's byte streams: that fails the
    check. The SMTP dissector's view (commands, subjects) is compared and reported too, but
    Wireshark's SMTP dissector loses track of tiny segments (a DATA terminator or a pipelined
    command line cut across segments), so a difference there alone is only a note."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pcaps = os.path.join(root, "tests", "pcap")
    demo = os.path.join(pcaps, "demo", "input.pcap")
    ref_streams, ref_view = tcp_streams(demo, False), smtp_view(demo, False)
    bad = 0
    for name, (modes, _) in CASES.items():
        path = os.path.join(pcaps, "evasion-" + name, "input.pcap")
        ooo = "reorder" in modes
        streams_ok = os.path.exists(path) and tcp_streams(path, ooo) == ref_streams
        view_ok = streams_ok and smtp_view(path, ooo) == ref_view
        bad += not streams_ok
        print("%s: evasion-%s: TCP streams %s, SMTP commands and subjects %s" % (
            "ok" if streams_ok else "FAIL", name, "identical" if streams_ok else "DIFFER",
            "identical" if view_ok else "differ (Wireshark's SMTP dissector)"))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(
        description="Rewrite the TCP segments of a capture like an evasion tool would.")
    ap.add_argument("--in", dest="inp", metavar="FILE", help="input pcap")
    ap.add_argument("--out", metavar="FILE", help="output pcap")
    ap.add_argument("--mode", type=parse_modes, help="MODE[,MODE...]: " + ", ".join(MODES))
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--split-min", type=int, default=1, help="smallest piece (default 1)")
    ap.add_argument("--split-max", type=int, default=8, help="largest piece (default 8)")
    ap.add_argument("--window", type=int, default=8, help="reorder window (default 8)")
    ap.add_argument("--dup-rate", type=float, default=0.3,
                    help="share of data segments repeated (default 0.3)")
    ap.add_argument("--dup-distance", type=int, default=4,
                    help="a repeat comes up to N packets of its flow later (default 4)")
    ap.add_argument("--overlap-rate", type=float, default=0.3,
                    help="share of data segments followed by an overlap (default 0.3)")
    ap.add_argument("--overlap-extent", type=int, default=16,
                    help="an overlap reaches up to N bytes beyond the segment (default 16)")
    ap.add_argument("--wrap-at", type=int, default=None,
                    help="stream offset that gets seq 0 (default: half of each direction)")
    ap.add_argument("--frag-size", type=int, default=8,
                    help="IP payload bytes per fragment, a multiple of 8 (default 8)")
    ap.add_argument("--frag-order", choices=["in", "reverse", "random"], default="random",
                    help="order of the fragments of a datagram (default random)")
    ap.add_argument("--regenerate", action="store_true",
                    help="rewrite every tests/pcap/evasion-*/ case from the demo capture")
    ap.add_argument("--verify", action="store_true",
                    help="check with tshark that every case carries the demo's TCP streams")
    args = ap.parse_args()
    if args.regenerate:
        return regenerate(ap)
    if args.verify:
        return verify()
    if not (args.inp and args.out and args.mode):
        ap.error("--in, --out and --mode are required (or --regenerate)")
    check_args(ap, args)
    try:
        cap = read_pcap(args.inp)
    except (OSError, ValueError) as e:
        print("evasion: %s" % e, file=sys.stderr)
        return 1
    transform(cap, args.mode, args)
    n = write_pcap(args.out, cap)
    print("evasion: %s: %d packets, %d bytes" % (args.out, len(cap.items), n), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
