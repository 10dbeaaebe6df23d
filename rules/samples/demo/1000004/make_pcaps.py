#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write pos.pcap and neg.pcap beside this script: the samples of sid 1000004 (NUL byte in
HELO). A HELO argument cannot come from an .eml (the runner's synthetic session greets with
a fixed name), so these two are captures: one SMTP session each, written with
tools/mkpcap.py's session builder (deterministic: the files are byte-identical from run to
run). pos greets with "EHLO ws15\\0.corp.example"; neg is the same session greeting with
"ws15.corp.example", the name without the NUL byte.

Usage (from anywhere): /usr/bin/python3 rules/samples/demo/1000004/make_pcaps.py
"""

import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "..", "tools"))
import mkpcap  # noqa: E402

MESSAGE = mkpcap.message([
    ("From", "Print Service <print@ws15.corp.example>"),
    ("To", "ops@corp.example"),
    ("Subject", "Toner low on printer 3"),
    ("Date", mkpcap.DATE),
    ("Message-ID", "<sample-1000004@ws15.corp.example>"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain; charset=us-ascii"),
], "The black toner of printer 3 is below 10%.\n")


def capture(helo):
    cap = mkpcap.Capture()
    dialogue = mkpcap.greeting()
    # mkpcap.ehlo() takes a str; the NUL byte goes in as the raw byte it is
    dialogue += [("C", b"EHLO " + helo + b"\r\n")] + mkpcap.ehlo("x")[1:]
    dialogue += mkpcap.transaction("print@ws15.corp.example", ["ops@corp.example"], MESSAGE,
                                   "4VtA1F0015")
    dialogue += mkpcap.quit_()
    cap.session({"client": ("10.10.1.15", 40015), "server": mkpcap.RELAY,
                 "dialogue": dialogue}, 0)
    return cap.pcap()


def main():
    for name, helo in (("pos.pcap", b"ws15\x00.corp.example"), ("neg.pcap", b"ws15.corp.example")):
        with open(os.path.join(here, name), "wb") as f:
            f.write(capture(helo))
    return 0


if __name__ == "__main__":
    sys.exit(main())
