#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Helper of tests/pcap/run_reload.sh: writes the rule packs it swaps during the run, says how
many transactions a looped capture must give for a number of packets received, and reduces
the EVE output to the figures the test checks. Standard library only.

  reload_check.py packs DIR COUNT FILLERS BROKEN...
      DIR/pack-K.rules for K = 0..COUNT: K even is pack A, K odd pack B, both with sid 9000001
      firing on every bench transaction (A on smtp.mail_from, B on smtp.helo), rev K+1, and
      FILLERS rules that never fire (so a compile costs something). For K in BROKEN the pack
      also holds a rule without its closing parenthesis on line 3: posternd must refuse it.
  reload_check.py figures STATS_JSON EVE_FILE PCAP
      key=value lines: posternd's counters (pd.*) and the dataplane's (dp.*) from
      `posternctl stats --json`; the EVE file's lines, alerts, alerts of sid 9000001, the revs
      they carry in order and whether they ever go back, transactions not delivered, the
      stats line's gen_id (eve.*); and expected_tx, the transactions the dataplane must report
      for the packets it received of PCAP looped from its first packet.
"""
import json
import os
import struct
import sys

ALWAYS_SID = 9000001
BUILTIN_SID_MIN, BUILTIN_SID_MAX = 2100000, 2100999  # common/builtin_sids.h
BUFFERS = ["email.subject", "file.data", "email.url", "smtp.rcpt_to", "email.from",
           "email.x_mailer", "file.name", "email.header", "email.message_id"]


def filler(variant, i):
    """A rule that matches nothing in the bench capture: literals no message holds; one in
    fifty a body regex with no literal to prefilter on, so that scanning costs what a real
    pack's does and the worker, not posternd, sets the pace."""
    if i % 50 == 0:
        return ('alert smtp any any -> any any (msg:"reload filler %s%d"; file.data; '
                'pcre:"/[a-z]{6}%s[0-9]{3}[a-z]{4}\\d{%d}/"; sid:%d; rev:1;)\n'
                % (variant, i, variant, 7 + i % 9, 8000000 + i))
    buf = BUFFERS[i % len(BUFFERS)]
    word = "zq%s%05d-%x" % (variant, i, (i * 7919 + (17 if variant == "a" else 29)) % 1000003)
    extra = ""
    if i % 5 == 0:
        extra = ' %s; content:"|7c|qz%s%d"; nocase;' % (BUFFERS[(i + 3) % len(BUFFERS)],
                                                      variant, i)
    return ('alert smtp any any -> any any (msg:"reload filler %s%d"; %s; content:"%s"; nocase;'
            '%s sid:%d; rev:1;)\n' % (variant, i, buf, word, extra, 8000000 + i))


def write_pack(path, k, n_fillers, broken):
    variant = "a" if k % 2 == 0 else "b"
    if variant == "a":
        always = 'smtp.mail_from; content:"example"'
    else:
        always = 'smtp.helo; content:"corp.example"'
    with open(path + ".tmp", "w") as f:
        f.write("# pack %s, written by tests/pcap/run_reload.sh\n" % variant.upper())
        f.write('alert smtp any any -> any any (msg:"RELOAD TEST every transaction, pack %s"; '
                '%s; nocase; sid:%d; rev:%d;)\n' % (variant.upper(), always, ALWAYS_SID, k + 1))
        if broken:
            f.write('alert smtp any any -> any any (msg:"broken"; email.subject; content:"x"; '
                    'sid:8999999; rev:1\n')
        for i in range(n_fillers):
            f.write(filler(variant, i))
    os.rename(path + ".tmp", path)


def cmd_packs(args):
    out, count, n_fillers = args[0], int(args[1]), int(args[2])
    broken = {int(b) for b in args[3:]}
    for k in range(count + 1):
        write_pack(os.path.join(out, "pack-%d.rules" % k), k, n_fillers, k in broken)


def pcap_packets(path):
    """Each packet's TCP payload, in order (Ethernet, IPv4 as mkpcap writes them)."""
    with open(path, "rb") as f:
        data = f.read()
    if struct.unpack("<I", data[:4])[0] != 0xA1B2C3D4:
        raise SystemExit("reload_check: %s: not a little-endian microsecond pcap" % path)
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            yield b""
            continue
        ihl = (frame[14] & 0x0F) * 4
        tcp = frame[14 + ihl:]
        yield tcp[(tcp[12] >> 4) * 4:]


def expected_tx(pcap, rx):
    """Transactions after rx packets of the capture looped from its first packet: every MAIL
    FROM received starts one (those of the session the end of the run cut are reported when
    the flows are flushed)."""
    starts = [p.startswith(b"MAIL FROM:") for p in pcap_packets(pcap)]
    loops, rest = divmod(rx, len(starts))
    return loops * sum(starts) + sum(starts[:rest])


def eve_figures(path, out):
    lines = alerts = always = not_delivered = bad = 0
    revs, order = set(), []
    stats_gen = ""
    with open(path, "rb") as f:
        for raw in f:
            lines += 1
            try:
                o = json.loads(raw)
            except ValueError:
                bad += 1
                continue
            if o.get("event_type") == "stats":
                stats_gen = o.get("stats", {}).get("gen_id", "")
            if o.get("event_type") != "alert":
                continue
            a = o.get("alert", {})
            # posternd's own checks (CAN-SPAM on the marketing mail) are not rules
            if BUILTIN_SID_MIN <= a.get("signature_id", 0) <= BUILTIN_SID_MAX:
                continue
            alerts += 1
            if a.get("signature_id") != ALWAYS_SID:
                continue
            always += 1
            if o.get("email", {}).get("status") != "delivered":
                not_delivered += 1
            rev = a.get("rev")
            if not order or order[-1] != rev:
                order.append(rev)
            revs.add(rev)
    out.update({
        "eve.lines": lines, "eve.unparsable": bad, "eve.alerts": alerts, "eve.always": always,
        "eve.not_delivered": not_delivered, "eve.distinct_revs": len(revs),
        "eve.rev_list": ",".join(str(r) for r in order),
        "eve.rev_backwards": sum(1 for x, y in zip(order, order[1:]) if y < x),
        "eve.stats_gen": stats_gen,
    })


def cmd_figures(args):
    stats_path, eve_path, pcap = args
    out = {}
    try:
        with open(stats_path) as f:
            stats = json.load(f)
    except (OSError, ValueError):
        stats = {}
    for section, prefix in (("posternd", "pd."), ("dataplane", "dp.")):
        for k, v in stats.get(section, {}).items():
            out[prefix + k] = v
    eve_figures(eve_path, out)
    if "dp.rx_packets" in out:
        out["expected_tx"] = expected_tx(pcap, out["dp.rx_packets"])
    for k in sorted(out):
        print("%s=%s" % (k, out[k]))


def main():
    cmds = {"packs": cmd_packs, "figures": cmd_figures}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    cmds[sys.argv[1]](sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
