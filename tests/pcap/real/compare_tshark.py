#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Compare what Postern reports for a capture with what tshark (Wireshark's SMTP and IMF
dissectors) reports for the same capture: per TCP connection, the transactions in order, and
for each its envelope (smtp.helo, smtp.mail_from, smtp.rcpt_to) and message header fields
(email.from, to, cc, subject, message_id, date, x_mailer). Fields tshark has no equivalent for
(status, attachments, URLs, extensions, ...) are not compared.

  compare_tshark.py --pcap FILE --eve EVE.jsonl [--known FILE] [--ports 25,587,2525] [--entries]
  compare_tshark.py --pcap FILE --dump        (print tshark's view as JSON, for debugging)

Prints one line, "ok: NAME ..." or "FAIL: NAME" followed by one line per difference, and exits
0 only when every difference is listed in the known-differences file.

How tshark's output becomes transactions (tshark has no notion of one): the commands and
replies of its SMTP dissector, per tcp.stream and in frame order, are paired in order
(RFC 5321/2920: replies come in command order). MAIL starts a transaction; RCPT, DATA or BDAT
outside one opens one (a capture can miss MAIL, Postern does the same); HELO/EHLO, RSET and
QUIT end it, as does a refusal of its MAIL, DATA or a BDAT chunk; STARTTLS answered 220 ends
the cleartext. A message is the IMF tree tshark builds for a DATA message. tshark 4.0 shows
BDAT chunks only as text lines: their bytes (exactly as tshark delimited them) are handed to
tshark's own IMF dissector in a second run (a pcap with one record per message, user DLT 147
mapped to "imf").

Representation only is normalised: the path inside <...> of MAIL FROM/RCPT TO with its
parameters dropped; header values unfolded (the CRLF of a fold removed, RFC 5322 2.2.3) and
trimmed of surrounding whitespace; To/Cc as tshark's address-list items; bytes that are not
UTF-8 shown as U+FFFD, one per byte (EVE is UTF-8). tshark 4.0's IMF dissector shows RFC 2047
encoded words as sent, Postern decodes them: the script decodes tshark's value with its own
strict decoder below (RFC 2047; adjacent words of a charset joined, whitespace between them
dropped; malformed words left as they are) before comparing.
"""
import argparse
import base64
import binascii
import codecs
import hashlib
import ipaddress
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

FIELDS = ("smtp.helo", "smtp.mail_from", "smtp.rcpt_to", "email.from", "email.to", "email.cc",
          "email.subject", "email.message_id", "email.date", "email.x_mailer")
IMF_SINGLE = {"imf.from": "email.from", "imf.subject": "email.subject",
              "imf.message_id": "email.message_id", "imf.date": "email.date",
              "imf.ext.mailer": "email.x_mailer"}
IMF_LIST = {"imf.to": "email.to", "imf.cc": "email.cc"}
USER_DLT = 147  # DLT_USER0, mapped to the imf dissector for the BDAT second run
PCAP_SNAPLEN = 262144  # the most tshark reads of one record; message headers come first
NOTES = []  # said after the result line


# ---- bytes to text, as EVE shows them ----

def utf8_sanitize(b):
    """Well-formed UTF-8 (RFC 3629) kept, every other byte U+FFFD, as control/eve.c does."""
    out = []
    i = 0
    while i < len(b):
        c = b[i]
        n = 1 if c < 0x80 else 2 if 0xc2 <= c <= 0xdf else 3 if 0xe0 <= c <= 0xef \
            else 4 if 0xf0 <= c <= 0xf4 else 0
        if n:
            try:
                out.append(b[i:i + n].decode("utf-8"))
                i += n
                continue
            except UnicodeDecodeError:
                pass
        out.append("\ufffd")
        i += 1
    return "".join(out)


def unfold(b):
    """RFC 5322 2.2.3: a CRLF (or bare LF) followed by whitespace is removed."""
    return re.sub(rb"\r?\n(?=[ \t])", b"", b)


def trim(b):
    return b.strip(b" \t\r\n")


# ---- RFC 2047 ----

ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")


def word_bytes(enc, text):
    """The octets an encoded word stands for, None when the encoding is malformed."""
    try:
        if enc in b"Bb":
            if len(text) % 4 != 0:
                return None
            return base64.b64decode(text, validate=True)
        out = bytearray()
        i = 0
        while i < len(text):
            c = text[i]
            if c == ord("_"):
                out.append(0x20)
            elif c == ord("="):
                h = text[i + 1:i + 3]
                if len(h) != 2 or not re.fullmatch(rb"[0-9A-Fa-f]{2}", h):
                    return None
                out.append(int(h, 16))
                i += 2
            else:
                out.append(c)
            i += 1
        return bytes(out)
    except (binascii.Error, ValueError):
        return None


def charset_codec(label):
    name = label.split(b"*", 1)[0].decode("ascii", "replace").lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def rfc2047_decode(raw):
    """Decode the encoded words of an unfolded header value; returns text."""
    if b"=?" not in raw:
        return utf8_sanitize(raw)
    words = []  # (start, end, codec, octets) of each well-formed word
    for m in ENCODED_WORD.finditer(raw):
        octets = word_bytes(m.group(2), m.group(3))
        codec = charset_codec(m.group(1))
        words.append((m.start(), m.end(), codec if octets is not None else None, octets))
    out = []
    pos = 0
    i = 0
    while i < len(words):
        start, end, codec, octets = words[i]
        if codec is None:
            i += 1
            continue
        # a run: words of one charset separated only by linear whitespace
        run = [words[i]]
        j = i + 1
        while j < len(words) and words[j][2] == codec and \
                re.fullmatch(rb"[ \t]*", raw[run[-1][1]:words[j][0]]):
            run.append(words[j])
            j += 1
        try:
            text = b"".join(w[3] for w in run).decode(codec)
        except (UnicodeDecodeError, LookupError):
            i += 1
            continue
        gap = raw[pos:start]
        if out and out[-1][0] == "word" and re.fullmatch(rb"[ \t]*", gap):
            gap = b""  # RFC 2047 6.2: whitespace between two encoded words is not shown
        out.append(("raw", gap))
        out.append(("word", text))
        pos = run[-1][1]
        i = j
    out.append(("raw", raw[pos:]))
    return "".join(utf8_sanitize(v) if kind == "raw" else v for kind, v in out)


def header_text(raw):
    return rfc2047_decode(trim(unfold(raw)))


# ---- SMTP arguments ----

def parse_path(param, kw):
    """The address of "FROM:<a> params" / "TO: a": None when it is not that shape."""
    m = re.match(rb"(?i)" + kw + rb"[ \t]*:[ \t]*(.*)", param, re.S)
    if m is None:
        return None
    rest = m.group(1)
    if rest.startswith(b"<") and b">" in rest:
        return utf8_sanitize(rest[1:rest.index(b">")])
    if rest.startswith(b"<"):
        rest = rest[1:]
    return utf8_sanitize(re.match(rb"[^ \t]*", rest).group(0))


def parse_bdat(param):
    m = re.fullmatch(rb"([0-9]{1,19})(?:[ \t]+(?i:(LAST)))?[ \t]*", param)
    if m is None:
        return None
    return int(m.group(1)), m.group(2) is not None


# ---- tshark ----

def field_bytes(el):
    v = el.get("value")
    if v is not None:
        try:
            return bytes.fromhex(v)
        except ValueError:
            pass
    return (el.get("show") or "").encode("utf-8")


def imf_fields(proto):
    """Header fields of one imf proto, its own only (not those of a nested message)."""
    got = {}
    for f in proto:
        if f.tag != "field":
            continue
        name = f.get("name")
        if name in IMF_SINGLE and IMF_SINGLE[name] not in got:
            got[IMF_SINGLE[name]] = header_text(field_bytes(f))
        elif name in IMF_LIST:
            # its own items: a group's members are items of the group's item
            items = [field_bytes(i) for i in f
                     if i.get("name") in ("imf.address_list.item", "imf.mailbox_list.item")]
            if not items:  # a list tshark could not split: the whole value, as one item
                items = [field_bytes(f)]
            lst = got.setdefault(IMF_LIST[name], [])
            lst.extend(t for t in (header_text(i) for i in items) if t != "")
    return got


def walk(el, ev, in_smtp):
    """
    Events of one packet in document order. ICMP-quoted packets are not traffic, and only a
    message that SMTP carried counts (tshark also finds IMF in IMAP and POP).
    """
    for child in el:
        name = child.get("name")
        if child.tag == "proto":
            if name in ("icmp", "icmpv6"):
                continue
            if name == "smtp":
                in_smtp = True
            if name == "imf":
                if in_smtp:
                    ev.append(("imf", imf_fields(child)))
            elif name == "data-text-lines" and in_smtp:
                ev.append(("data", b"".join(field_bytes(f) for f in child
                                            if f.tag == "field")))
            else:
                walk(child, ev, in_smtp)
        elif child.tag == "field" and in_smtp:
            if name == "smtp.command_line":
                # the verb from the line: tshark 4.0's smtp.req.command keeps only four
                # characters ("STAR" for STARTTLS)
                line = field_bytes(child).rstrip(b"\r\n")
                verb, _, param = line.partition(b" ")
                ev.append(("cmd", verb.upper().decode("ascii", "replace"), param))
            elif name == "smtp.response":
                n_params = sum(1 for s in child if s.get("name") == "smtp.rsp.parameter")
                ev.append(("rsp", field_bytes(child).rstrip(b"\r\n"), n_params))
            elif name in ("smtp.auth.username", "smtp.auth.password",
                          "smtp.auth.username_password"):
                ev.append(("auth",))


def tshark_pdml(pcap, extra):
    cmd = ["tshark", "-n", "-r", pcap, "-T", "pdml"] + extra
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _, el in ET.iterparse(proc.stdout, events=("end",)):
            if el.tag == "packet":
                yield el
                el.clear()
    except ET.ParseError:
        if proc.wait() == 0:
            raise
    err = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        # A damaged file (the collection has one on purpose) is read up to the damage, by
        # tshark as by libpcap under the dataplane: what came before is compared.
        if re.search(r"bigger than maximum|damaged or corrupt|cut short", err):
            NOTES.append("tshark read the capture up to its damage: " +
                         " ".join(l for l in err.splitlines() if "pcap:" in l or "damaged" in l))
        else:
            raise RuntimeError("tshark failed on %s: %s" % (pcap, err))


def decode_as(ports):
    out = []
    for p in ports:
        if p not in (25, 587):  # tshark's own SMTP ports
            out += ["-d", "tcp.port==%d,smtp" % p]
    return out


def read_streams(pcap, ports):
    """{tcp.stream: [(src, sport, dst, dport, [event])]}, frames in capture order."""
    streams = {}
    for pkt in tshark_pdml(pcap, decode_as(ports) + ["-Y", "smtp || imf"]):
        src = dst = None
        sport = dport = stream = None
        ev = []
        for proto in pkt:  # the packet's own layers (a quoted one sits inside icmp)
            name = proto.get("name")
            fields = {f.get("name"): f.get("show") for f in proto if f.tag == "field"}
            if name in ("ip", "ipv6"):
                src, dst = fields.get(name + ".src"), fields.get(name + ".dst")
            elif name == "tcp":
                stream = int(fields["tcp.stream"])
                sport, dport = int(fields["tcp.srcport"]), int(fields["tcp.dstport"])
        if stream is None or src is None:
            continue
        walk(pkt, ev, False)
        if ev:
            streams.setdefault(stream, []).append((src, sport, dst, dport, ev))
    return streams


class Tx:
    def __init__(self, helo):
        self.helo = helo
        self.mail_from = None
        self.rcpt = []
        self.expect_data = False   # DATA sent and not refused: a message may follow
        self.imf = None
        self.bdat = None           # bytearray of the chunks, once a BDAT was sent
        self.bdat_open = False     # the chunk of the last BDAT: client text lines are its
        self.bdat_last = False     # that BDAT said LAST


def stream_transactions(frames):
    """(client, server, [Tx]) for one tcp.stream; see the module comment for the rules."""
    client = server = None
    for src, sport, dst, dport, ev in frames:
        for e in ev:
            if e[0] in ("cmd", "auth", "imf"):
                client, server = (src, sport), (dst, dport)
            elif e[0] == "rsp":
                client, server = (dst, dport), (src, sport)
            if client:
                break
        if client:
            break
    if client is None:
        return None, None, []
    helo = None
    tx = None
    txs = []
    pending = []
    greeted = False
    reply_open = False

    def ensure():
        nonlocal tx
        if tx is None:
            tx = Tx(helo)
            txs.append(tx)
        return tx

    def on_reply(code):
        nonlocal greeted, tx
        if not greeted:
            greeted = True
            if not pending or (code == 220 and pending[0][0] != "STARTTLS"):
                return False
        if not pending:
            return False
        verb, ptx = pending.pop(0)
        ok = code is not None and code // 100 == 2
        if verb == "MAIL" and not ok and ptx is not None and ptx is tx:
            tx = None
        elif verb == "DATA" and code != 354 and ptx is not None:
            ptx.expect_data = False
            if ptx is tx:
                tx = None
        elif verb == "BDAT" and not ok and ptx is not None and ptx is tx:
            tx = None
        elif verb == "STARTTLS" and code == 220:
            return True
        return False

    for src, sport, dst, dport, ev in frames:
        from_client = (src, sport) == client
        for e in ev:
            kind = e[0]
            if kind == "rsp" and not from_client:
                line, n_params = e[1], e[2]
                code = int(line[:3]) if re.match(rb"[0-9]{3}", line) else None
                final = len(line) < 4 or line[3:4] != b"-" or n_params > 1
                if reply_open:
                    reply_open = not final
                    continue
                reply_open = not final
                if on_reply(code):
                    return client, server, txs  # STARTTLS accepted: the rest is TLS
            elif kind == "auth" and from_client:
                pending.append(("AUTH", None))
            elif kind == "cmd" and from_client:
                verb, param = e[1], e[2]
                if tx is not None and tx.bdat_open:
                    tx.bdat_open = False
                    if tx.bdat_last:
                        tx = None  # BDAT LAST ended the message: a new transaction follows
                if verb in ("HELO", "EHLO"):
                    helo = utf8_sanitize(trim(param))
                    tx = None
                elif verb in ("RSET", "QUIT"):
                    tx = None
                elif verb == "MAIL":
                    addr = parse_path(param, b"FROM")
                    if addr is not None:
                        tx = Tx(helo)
                        tx.mail_from = addr
                        txs.append(tx)
                        pending.append(("MAIL", tx))
                        continue
                elif verb == "RCPT":
                    addr = parse_path(param, b"TO")
                    if addr is not None and not (tx is not None and tx.bdat is not None):
                        ensure().rcpt.append(addr)
                        pending.append(("RCPT", tx))
                        continue
                elif verb == "DATA":
                    ensure().expect_data = True
                    pending.append(("DATA", tx))
                    continue
                elif verb == "BDAT":
                    bdat = parse_bdat(param)
                    if bdat is not None:
                        t = ensure()
                        if t.bdat is None:
                            t.bdat = bytearray()
                        t.bdat_open = True
                        t.bdat_last = bdat[1]
                        pending.append(("BDAT", t))
                        continue
                pending.append((verb, None))
            elif kind == "data" and from_client:
                if tx is not None and tx.bdat_open:
                    tx.bdat += e[1]
            elif kind == "imf" and from_client:
                # the message of the last DATA not refused; tshark also shows as a message
                # what follows a refused DATA (it stays in data mode): that is no message
                target = next((t for t in reversed(txs) if t.expect_data and t.imf is None),
                              None)
                if target is None:
                    continue
                target.imf = e[1]
                target.expect_data = False
                pending.append(("EOD", target))  # the "." has a reply of its own
                if target is tx:
                    tx = None  # the message is complete: what follows is a new transaction
    return client, server, txs


def refeed_bdat(msgs):
    """tshark's IMF dissector over each message: one pcap record per message."""
    if not msgs:
        return []
    with tempfile.NamedTemporaryFile(suffix=".pcap", delete=False) as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, PCAP_SNAPLEN, USER_DLT))
        for i, m in enumerate(msgs):
            m = bytes(m[:PCAP_SNAPLEN])
            f.write(struct.pack("<IIII", i, 0, len(m), len(m)) + m)
        path = f.name
    try:
        out = [{} for _ in msgs]
        uat = 'uat:user_dlts:"User 0 (DLT=147)","imf","0","","0",""'
        for n, pkt in enumerate(tshark_pdml(path, ["-o", uat])):
            for proto in pkt:
                if proto.get("name") == "imf":
                    out[n] = imf_fields(proto)
                    break
        return out
    finally:
        os.unlink(path)


def ip_text(a):
    return ipaddress.ip_address(a).compressed


def conn_name(client, server):
    def ep(e):
        a = ip_text(e[0])
        return ("[%s]:%d" if ":" in a else "%s:%d") % (a, e[1])
    return "%s->%s" % (ep(client), ep(server))


def tx_record(t):
    r = dict.fromkeys(FIELDS)
    r["smtp.helo"] = t.helo
    r["smtp.mail_from"] = t.mail_from
    r["smtp.rcpt_to"] = t.rcpt or None
    for k, v in (t.imf or {}).items():
        r[k] = v if v != [] else None
    return r


def tshark_view(pcap, ports):
    """[(conn_name, [record])] in stream order, connections without a transaction left out."""
    conns = []
    bdat = []
    streams = read_streams(pcap, ports)
    for stream in sorted(streams):
        client, server, txs = stream_transactions(streams[stream])
        if txs:
            conns.append((conn_name(client, server), txs))
            bdat += [t for t in txs if t.bdat is not None and t.imf is None]
    for t, imf in zip(bdat, refeed_bdat([t.bdat for t in bdat])):
        t.imf = imf
    return [(name, [tx_record(t) for t in txs]) for name, txs in conns]


# ---- Postern ----

def postern_view(eve_path):
    """[(conn_name, [record])], a connection per flow in time order, its events by tx_id."""
    flows = {}
    with open(eve_path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            e = json.loads(line)
            if e.get("event_type") != "smtp":
                continue
            name = conn_name((e["src_ip"], e["src_port"]), (e["dest_ip"], e["dest_port"]))
            flows.setdefault((name, e.get("flow_id")), []).append(e)
    out = []
    for (name, _), evs in sorted(flows.items(),
                                 key=lambda kv: min(x["timestamp"] for x in kv[1])):
        recs = []
        for e in sorted(evs, key=lambda x: x["tx_id"]):
            r = dict.fromkeys(FIELDS)
            for k in FIELDS:
                obj, key = k.split(".")
                v = e.get(obj, {}).get(key)
                r[k] = v if v != [] else None
            # A record cut at its bounds says so (email.truncated): its lists are prefixes.
            r["truncated"] = e.get("email", {}).get("truncated", False)
            recs.append(r)
        out.append((name, recs))
    return out


# ---- comparison ----

def is_bounded_prefix(pv, tv):
    """A list Postern cut at its record's bounds: a non-empty prefix of tshark's, or nothing
    for a list the bound left no room for (the record says it was cut)."""
    if not isinstance(tv, list):
        return False
    return pv is None or (isinstance(pv, list) and len(pv) < len(tv) and tv[:len(pv)] == pv)


def compare(pview, tview):
    """[(conn, tx, field, postern, tshark)] of every difference."""
    diffs = []
    tmap = {}
    for name, recs in tview:
        tmap.setdefault(name, []).append(recs)
    pmap = {}
    for name, recs in pview:
        pmap.setdefault(name, []).append(recs)
    for name in sorted(set(tmap) | set(pmap)):
        tl, pl = tmap.get(name, []), pmap.get(name, [])
        for k in range(max(len(tl), len(pl))):
            t = tl[k] if k < len(tl) else []
            p = pl[k] if k < len(pl) else []
            if len(t) != len(p):
                diffs.append((name, "*", "transactions", len(p), len(t)))
            for i in range(min(len(t), len(p))):
                for fld in FIELDS:
                    if p[i][fld] == t[i][fld] or (p[i]["truncated"] and
                                                  is_bounded_prefix(p[i][fld], t[i][fld])):
                        continue
                    diffs.append((name, i, fld, p[i][fld], t[i][fld]))
    return diffs


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_known(path, digest):
    if not path:
        return []
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return [k for k in doc["differences"] if k["sha256"] == digest]


def known_match(k, d):
    conn, tx, fld, pv, tv = d
    if k.get("connection", "*") not in ("*", conn):
        return False
    if k.get("tx", "*") not in ("*", tx):
        return False
    if k["field"] not in ("*", fld):
        return False
    if "postern" in k and k["postern"] != pv:
        return False
    if "tshark" in k and k["tshark"] != tv:
        return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--eve", help="Postern's EVE output for the capture (scripts/replay)")
    ap.add_argument("--known", help="the known-differences file")
    ap.add_argument("--ports", default="25,587,2525", help="SMTP ports, as Postern inspects")
    ap.add_argument("--dump", action="store_true", help="print tshark's view and stop")
    ap.add_argument("--entries", action="store_true",
                    help="print the unexplained differences as known-difference entries "
                         "(to review and give a reason, never to paste blindly)")
    a = ap.parse_args()
    ports = [int(p) for p in a.ports.split(",")]
    name = os.path.basename(a.pcap)
    try:
        tview = tshark_view(a.pcap, ports)
    except (RuntimeError, ET.ParseError) as e:
        print("FAIL: %s: tshark: %s" % (name, str(e).strip().splitlines()[-1:]))
        return 1
    if a.dump:
        json.dump(tview, sys.stdout, indent=1, ensure_ascii=False)
        print()
        return 0
    if not a.eve:
        ap.error("--eve is required unless --dump")
    pview = postern_view(a.eve)
    digest = sha256(a.pcap)
    known = load_known(a.known, digest)
    diffs = compare(pview, tview)
    used = set()
    bad = []
    for d in diffs:
        hit = [i for i, k in enumerate(known) if known_match(k, d)]
        if hit:
            used.update(hit)
        else:
            bad.append(d)
    stale = [k for i, k in enumerate(known) if i not in used]
    if a.entries:
        out = [{"sha256": digest, "capture": name, "connection": c, "tx": t, "field": f,
                "postern": pv, "tshark": tv, "reason": "?"} for c, t, f, pv, tv in bad]
        json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
        print()
    n_tx = sum(len(r) for _, r in tview)
    n_msg = sum(1 for _, recs in tview for r in recs
                if any(r[f] is not None for f in FIELDS if f.startswith("email.")))
    notes = "".join("\n  note: " + n for n in NOTES)
    if not bad and not stale:
        print("ok: %s (%d connections, %d transactions, %d with headers; %d known tshark "
              "differences)" % (name, len(tview), n_tx, n_msg, len(diffs)) + notes)
        return 0
    print("FAIL: %s (%d connections, %d transactions per tshark)" % (name, len(tview), n_tx)
          + notes)
    for conn, tx, fld, pv, tv in bad:
        print("  %s tx %s %s: postern=%s tshark=%s"
              % (conn, tx, fld, json.dumps(pv, ensure_ascii=False),
                 json.dumps(tv, ensure_ascii=False)))
    for k in stale:
        print("  known difference no longer seen (remove it): %s" % json.dumps(k))
    return 1


if __name__ == "__main__":
    sys.exit(main())
