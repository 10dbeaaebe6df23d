#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the compliance corpus (corpus.tsv) as a capture: one SMTP session per message.

Session N (counting from 0 in corpus.tsv's order) comes from client 10.30.0.(10+N), port
41000+N, to the relay 10.10.0.25:25, so that every event of the replay is tied back to its
message by its source port. Each session is EHLO, MAIL FROM the line's envelope sender
("<>" for a null sender), RCPT TO <rcpt-N@customer.example>, DATA with the message's bytes
(an mbox "From " separator line dropped, line ends made CRLF, dots stuffed), QUIT; packets come from tools/mkpcap.py's Capture, so
the file is byte-identical from run to run.

Usage (from the repository root):
  /usr/bin/python3 tests/compliance/corpus_pcap.py CORPUS.tsv OUT.pcap
Prints "PORT<TAB>MESSAGE" for every session on standard output.
"""

import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools"))
import mkpcap  # noqa: E402

BASE_PORT = 41000
MAX_SESSIONS = 240  # client addresses 10.30.0.10 .. 10.30.0.249


def corpus_lines(path):
    """(message, mail_from) of every line that is not a comment or blank."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) < 4:
                sys.exit("%s:%d: expected MESSAGE, MAIL_FROM, KIND, FAILED" % (path, n))
            out.append((fields[0], fields[1]))
    return out


def crlf(data):
    """Every line end CRLF, whatever the file had."""
    return re.sub(rb"\r?\n", b"\r\n", data)


def without_mbox_separator(data):
    """The message without the mbox "From sender date" line some stored copies begin with:
    a sending MTA never sends it (it is not a header, and would end the header block)."""
    if data.startswith(b"From "):
        return data[data.find(b"\n") + 1:] if b"\n" in data else b""
    return data


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: corpus_pcap.py CORPUS.tsv OUT.pcap")
    lines = corpus_lines(sys.argv[1])
    if len(lines) > MAX_SESSIONS:
        sys.exit("corpus_pcap.py: more than %d messages" % MAX_SESSIONS)
    cap = mkpcap.Capture()
    for i, (path, mail_from) in enumerate(lines):
        with open(os.path.join(TOP, path), "rb") as f:
            msg = crlf(without_mbox_separator(f.read()))
        sender = "" if mail_from == "<>" else mail_from
        port = BASE_PORT + i
        cap.session({
            "client": ("10.30.0.%d" % (10 + i), port), "server": mkpcap.RELAY,
            "dialogue": mkpcap.greeting() + mkpcap.ehlo("app%d.corp.example" % i)
            + mkpcap.transaction(sender, ["rcpt-%d@customer.example" % i], msg,
                                 "4VtK%06d" % i)
            + mkpcap.quit_(),
        }, i)
        print("%d\t%s" % (port, path))
    with open(sys.argv[2], "wb") as f:
        f.write(cap.pcap())
    return 0


if __name__ == "__main__":
    sys.exit(main())
