#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A real SMTP server for the netns end-to-end tests (aiosmtpd).

Accepts every sender, recipient and message and stores each message as one file in
MAILDIR/new/ (written in MAILDIR/tmp/ and renamed, so a file in new/ is always complete),
named NNNNNN.eml in arrival order, with the envelope prepended as X-Envelope-From and one
X-Envelope-To line per recipient. It prints "smtp_server: listening on HOST:PORT" on stdout
once bound and stops cleanly on SIGTERM or SIGINT. It does no TLS, no AUTH, no relaying:
it is a sink that lets a test count what was delivered.

Usage: /usr/bin/python3 tests/netns/smtp_server.py --host 10.98.0.2 --port 25 --maildir DIR
"""

import argparse
import asyncio
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class MaildirHandler:
    def __init__(self, maildir):
        self.tmp = os.path.join(maildir, "tmp")
        self.new = os.path.join(maildir, "new")
        os.makedirs(self.tmp, exist_ok=True)
        os.makedirs(self.new, exist_ok=True)
        self.count = len(os.listdir(self.new))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = "%06d.eml" % self.count
        head = "X-Envelope-From: <%s>\r\n" % envelope.mail_from
        head += "".join("X-Envelope-To: <%s>\r\n" % r for r in envelope.rcpt_tos)
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        tmp = os.path.join(self.tmp, name)
        with open(tmp, "wb") as f:
            f.write(head.encode("utf-8", "surrogateescape") + data)
        os.rename(tmp, os.path.join(self.new, name))
        print("smtp_server: stored %s from <%s> to %s (%d bytes)"
              % (name, envelope.mail_from, ",".join(envelope.rcpt_tos), len(data)), flush=True)
        return "250 2.0.0 Ok: queued as %s" % name


async def serve(args):
    handler = MaildirHandler(args.maildir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname=args.hostname, ident="postern-test-sink",
                     decode_data=False, enable_SMTPUTF8=True,
                     data_size_limit=args.max_size),
        host=args.host, port=args.port, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("smtp_server: listening on %s:%d" % (args.host, args.port), flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()
    print("smtp_server: stopped after %d message(s)" % handler.count, flush=True)


def main():
    ap = argparse.ArgumentParser(description="Accept-everything SMTP sink for tests.")
    ap.add_argument("--host", default="10.98.0.2")
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--hostname", default="sink.corp.example")
    ap.add_argument("--max-size", type=int, default=10 * 1024 * 1024)
    args = ap.parse_args()
    try:
        asyncio.run(serve(args))
    except OSError as e:
        print("smtp_server: cannot listen on %s:%d: %s" % (args.host, args.port, e),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
