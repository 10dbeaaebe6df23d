#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a deterministic rule pack for the benchmark (issue 5): N Suricata-syntax rules over
every buffer Postern scans, about 60% literal contents and 40% pcre, with the keywords and
headers real packs use (flow, depth/offset, distance/within, startswith/endswith, isdataat,
fast_pattern, flowbits, threshold, detection_filter, $VARIABLES in addresses and ports).

Most rules look for spam and phishing vocabulary that the bench capture does not hold (they
cost scanning time and never fire); --hit-percent of them (default 15) are built from the
values the bench capture's messages do hold (tools/mkpcap.py --scenario bench: the demo's
four sessions and the promo mail), so that a realistic share of the pack fires on each
message: about 3% of the rules per message with the defaults. HIT below holds those values
as Postern's buffers see them (header values unfolded and decoded, bodies transfer-decoded);
`bench_inspect CAPTURE --rules PACK --dump-buffers` prints them, and bench_inspect reports
how many rules fired. Keep them in step with mkpcap.py.

Output is identical from run to run for the same arguments (random.Random(seed), no set or
dict iteration order involved). It does not check the rules: `posternctl rules check PACK`
does. With --literal-only, only what the parser has always accepted is written (content,
nocase, negated content, classtype, metadata, reference, $VAR headers): no pcre, no content
modifiers, no flow/flowbits/threshold/detection_filter.

Usage (from the repository root):
  /usr/bin/python3 tools/gen_rule_pack.py --rules N --seed S --out FILE
                                          [--literal-only] [--hit-percent P]
"""

import argparse
import random
import re
import sys

SID_BASE = 3000000  # far from the demo pack (1000001..) and the built-ins (2100000..2100999)

# Where rules look, with how many of a real pack's rules look there (relative weights).
BUFFERS = [
    ("smtp.helo", 4), ("smtp.mail_from", 6), ("smtp.rcpt_to", 4),
    ("email.from", 6), ("email.to", 4), ("email.cc", 3), ("email.subject", 14),
    ("email.message_id", 4), ("email.x_mailer", 4), ("email.date", 2),
    ("email.received", 4), ("email.header", 8), ("email.url", 10),
    ("file.name", 5), ("file.data", 22),
]

# ------------------------------------------------------------------ what the capture holds
# Values of the bench capture, per buffer, as Postern scans them. file.data entries are
# (line, starts_part): a line that begins its part may carry depth/offset/startswith.

HIT = {
    "smtp.helo": ["ws11.corp.example", "ws12.corp.example", "ws13.corp.example",
                  "ws14.corp.example", "mailer15.corp.example"],
    "smtp.mail_from": ["deals@corp.example", "barrister@ws12.corp.example",
                       "backup@ws13.corp.example", "pat@corp.example", "finance@corp.example",
                       "news@shop.example"],
    "smtp.rcpt_to": ["optedout@customer.example", "someone@partner.example",
                     "ops@corp.example", "alice@corp.example", "bob@corp.example",
                     "former@customer.example", "customer@customer.example"],
    "email.from": ["Corp Deals <deals@corp.example>",
                   "Mr. Barrister <barrister@ws12.corp.example>", "backup@ws13.corp.example",
                   "Pat Lee <pat@corp.example>", "Finance <finance@corp.example>",
                   "Spring Sale <news@shop.example>"],
    "email.to": ["<optedout@customer.example>", "<someone@partner.example>",
                 "ops@corp.example", "Alice <alice@corp.example>",
                 "bob@corp.example, former@customer.example", "customer@customer.example"],
    "email.subject": ["June deals for our customers", "FREE MONEY waiting for you",
                      "Nightly backup report", "Weekly status", "Quarterly numbers",
                      "Spring sale \u2014 50% off"],
    "email.message_id": ["<20240603100000.a1@corp.example>",
                         "<20240603100001.b1@ws12.corp.example>",
                         "<20240603100002.c1@ws13.corp.example>",
                         "<20240603100003.c2@corp.example>",
                         "<20240603100004.d1@corp.example>", "<promo.1@shop.example>"],
    "email.x_mailer": ["Corp Newsletter 2.1"],
    "email.date": ["Mon, 03 Jun 2024 10:00:00 +0000"],
    "email.header": ["Subject: June deals for our customers",
                     "Subject: FREE MONEY waiting for you", "Subject: Nightly backup report",
                     "From: Mr. Barrister <barrister@ws12.corp.example>",
                     "From: Spring Sale <news@shop.example>",
                     "Content-Type: text/plain; charset=utf-8",
                     "Content-Type: multipart/mixed; boundary=\"mixed-1\"",
                     "List-Unsubscribe: <https://shop.example/u/1>",
                     "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                     "X-Mailer: Corp Newsletter 2.1", "To: Alice <alice@corp.example>",
                     "Message-ID: <promo.1@shop.example>"],
    "email.url": ["https://corp.example/deals/june", "https://corp.example/unsubscribe?u=4f1c"],
    "file.name": ["spring offer.pdf"],
    "file.data": [
        ("Hello,", True),
        ("Our June deals are here: 20% off every annual plan until June 30.", False),
        ("See https://corp.example/deals/june for the details.", False),
        ("You receive this newsletter because you are a customer of Corp Example.", False),
        ("Unsubscribe at any time: https://corp.example/unsubscribe?u=4f1c", False),
        ("Corp Example Inc., 123 Main Street, Springfield, IL 62701, USA", False),
        ("Dear friend,", True),
        ("A sum of USD 4,500,000 is waiting for you. To release it we only need the", False),
        ("wire transfer fee of USD 250, payable today.", False),
        ("Reply with your bank details.", False),
        ("Nightly backup finished at 02:14 UTC.", True),
        ("Volumes: 12 of 12 completed, 0 failed.", False),
        ("Transferred: 48.2 GiB in 1 h 52 min.", False),
        ("Hi Alice,", True),
        ("Done: mail relay migration, monitoring dashboards.", False),
        ("Next: certificate renewal on Thursday.", False),
        ("Hi Bob,", True),
        ("Here are the quarterly numbers, region by region.", False),
        ("  Notes: figures are unaudited; currency conversion at month-end rates.", False),
        ("  North     revenue    100000  cost     70999  margin  29.0%  headcount   41", False),
        ("Commentary: growth came mostly from renewals; new business was flat in the first "
         "half and picked up after the pricing change.", False),
        ("50% off this weekend only", False),
    ],
}

# ------------------------------------------------------------------ what it does not hold
VERBS = ["verify", "confirm", "update", "validate", "unlock", "restore", "reactivate",
         "secure", "review", "upgrade", "re-validate", "authenticate"]
OBJECTS = ["your account", "your password", "your mailbox", "your payment details",
           "your billing information", "your identity", "your wallet", "your card",
           "your login", "your credentials", "your subscription", "your parcel"]
URGENCY = ["urgent", "immediate action", "final notice", "last warning", "action required",
           "respond now", "within 24 hours", "today only", "expires today", "suspended"]
MONEY = ["wire the funds", "bank transfer", "western union", "moneygram", "bitcoin",
         "btc wallet", "crypto investment", "gift cards", "itunes cards", "inheritance",
         "beneficiary", "compensation fund", "lottery", "jackpot", "prize claim",
         "unclaimed funds", "tax refund", "refund approved", "invoice attached",
         "overdue invoice", "payment failed", "payment declined"]
JUNK = ["cheap meds", "weight loss", "casino bonus", "free spins", "hot singles",
        "work from home", "make money fast", "double your income", "risk free",
        "100% guaranteed", "no credit check", "lowest price", "miracle cure", "act now"]
BRANDS = ["paypal", "docusign", "office 365", "microsoft", "apple id", "amazon", "netflix",
          "dhl", "fedex", "ups", "usps", "wells fargo", "chase bank", "coinbase", "binance",
          "irs", "hmrc", "onedrive", "sharepoint", "dropbox"]
EVENTS = ["account locked", "unusual sign-in", "delivery attempt failed", "package on hold",
          "shared a document with you", "voicemail received", "password expires",
          "storage full", "security alert", "payment receipt", "subscription renewal",
          "tracking number"]
DOMAIN_WORDS = ["secure", "login", "verify", "account", "update", "billing", "support",
                "service", "wallet", "auth", "portal", "online", "webmail", "cloud", "docs",
                "drive", "track", "parcel", "delivery", "signin", "recovery", "helpdesk"]
TLDS = ["top", "xyz", "click", "icu", "buzz", "rest", "cyou", "monster", "ru", "cn", "tk",
        "gq", "ml", "cf", "work", "live"]
FREEMAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "mail.ru", "qq.com",
            "163.com", "protonmail.com", "aol.com", "gmx.net", "yandex.ru"]
ROLES = ["noreply", "no-reply", "security", "support", "admin", "billing", "accounts",
         "service", "verify", "alert", "notification", "helpdesk", "postmaster", "webmaster"]
TARGETS = ["undisclosed-recipients", "all-staff", "everyone", "payroll", "accounting",
           "ceo-office", "hr-team", "invoices", "treasury"]
FILE_WORDS = ["invoice", "payment", "remittance", "scan", "statement", "order", "receipt",
              "document", "shipping", "quote", "contract", "salary", "bonus", "resume",
              "fax", "voicemail", "po"]
BAD_EXT = ["exe", "scr", "js", "jse", "vbs", "vbe", "hta", "lnk", "iso", "img", "zip",
           "rar", "7z", "docm", "xlsm", "cab", "msi", "bat", "cmd", "ps1", "jar"]
MAILERS = ["PHPMailer", "The Bat!", "Microsoft Outlook Express 6.00", "Gammadyne Mailer",
           "SendBlaster", "Atomic Mail Sender", "ZuckMail", "Microsoft CDO",
           "Python smtplib", "SmartMailer", "MassMailer Pro", "Foxmail", "Coremail",
           "Leaf PHPMailer", "GoPhish", "Sendinbox", "AMS Mailer", "BulkMailer"]
HELO_BAD = ["localhost", "localhost.localdomain", "user-pc", "desktop-", "win-", "dsl-",
            "pool-", "dynamic", "ppp-", "adsl", "broadband", "unknown", "[127.0.0.1]",
            "home-router", "mx.mail-"]
RECEIVED = ["from unknown", "(HELO localhost)", "with ESMTPA", "(may be forged)",
            "with HTTP", "envelope-from", "using TLSv1 with cipher", "by mx.mail-",
            "(qmail ", "via mail.ru", "Exim 4.8", "helo=user-pc", "from [192.168."]
HEADERS = ["X-PHP-Originating-Script: ", "X-Priority: 1", "Importance: High",
           "X-MSMail-Priority: High", "X-Spam-Flag: YES", "Return-Path: <>",
           "charset=koi8-r", "charset=gb2312", "Precedence: bulk", "X-Originating-IP: ",
           "Disposition-Notification-To: ", "X-Source-Dir: ", "X-AntiAbuse: ",
           "Reply-To: ", "X-Campaign-Id: "]
URL_BITS = ["bit.ly/", "tinyurl.com/", "goo.gl/", "cutt.ly/", "rb.gy/", "ipfs.io/ipfs/",
            "firebaseapp.com", ".web.app/", "000webhostapp.com", ".r2.dev/", "/wp-admin/",
            "/wp-includes/", "login.php", "verify.php", ".php?email=", "data:text/html",
            "javascript:", "/owa/auth/", "/signin/v2/", "drive-google."]
BODY_CODE = ["<form action=", "<input type=\"password\"", "document.write(unescape(",
             "eval(atob(", "window.location.href=", "String.fromCharCode(", "<iframe src=",
             "This program cannot be run in DOS mode", "/JavaScript", "/OpenAction",
             "/Launch", "vbaProject.bin", "powershell -enc", "cmd.exe /c"]
BINARY = [b"MZ\x90\x00\x03\x00", b"PK\x03\x04\x14\x00\x06\x00", b"\xd0\xcf\x11\xe0\xa1\xb1",
          b"%PDF-1.7\r\n%\xe2\xe3", b"Rar!\x1a\x07\x01"]

CLASSTYPES = ["social-engineering", "social-engineering", "policy-violation", "bad-unknown",
              "trojan-activity", "misc-activity", "attempted-recon", "unknown"]
# Headers that match the bench capture's sessions (clients in 10.0.0.0/8, the relay
# 10.10.0.25 port 25: internal mail, inside the default $HOME_NET) and headers that do not.
HEADERS_INTERNAL = [
    "smtp $HOME_NET any -> $SMTP_SERVERS 25",
    "smtp $HOME_NET any -> $SMTP_SERVERS $SMTP_PORTS",
    "smtp $HOME_NET any -> $SMTP_SERVERS [25,587]",
    "smtp any any -> $HOME_NET 25",
    "smtp any any -> any any",
    "tcp $HOME_NET any -> any 25",
]
HEADERS_EXTERNAL = [
    "smtp $EXTERNAL_NET any -> $SMTP_SERVERS 25",
    "smtp $EXTERNAL_NET any -> $SMTP_SERVERS $SMTP_PORTS",
    "smtp !$HOME_NET any -> $SMTP_SERVERS any",
]


def miss_phrase(rng, buf):
    """Text a rule on buf looks for that the bench capture does not hold."""
    while True:
        phrase = any_phrase(rng, buf)
        if not holds(buf, phrase):
            return phrase


def any_phrase(rng, buf):
    c = rng.choice
    if buf == "smtp.helo":
        return c([lambda: c(HELO_BAD), lambda: "%s%d" % (c(HELO_BAD), rng.randint(1, 999)),
                  lambda: "%s-%s.%s" % (c(DOMAIN_WORDS), c(DOMAIN_WORDS), c(TLDS))])()
    if buf in ("smtp.mail_from", "email.from"):
        return c([lambda: "%s@%s" % (c(ROLES), c(FREEMAIL)), lambda: "@" + c(FREEMAIL),
                  lambda: "%s@%s-%s.%s" % (c(ROLES), c(BRANDS).replace(" ", ""),
                                           c(DOMAIN_WORDS), c(TLDS)),
                  lambda: "%s %s" % (c(BRANDS).title(), c(["Support", "Security", "Billing",
                                                           "Team", "Service"]))])()
    if buf in ("smtp.rcpt_to", "email.to", "email.cc"):
        return c([lambda: "%s@" % c(TARGETS), lambda: "@" + c(FREEMAIL),
                  lambda: "%s@%s" % (c(TARGETS), c(FREEMAIL))])()
    if buf == "email.message_id":
        return c([lambda: "@localhost", lambda: "@localhost.localdomain",
                  lambda: "@%s" % c(FREEMAIL), lambda: "@phpmailer", lambda: ".JavaMail.",
                  lambda: "@swift.generated", lambda: "@%s-%s.%s" % (
                      c(DOMAIN_WORDS), c(DOMAIN_WORDS), c(TLDS))])()
    if buf == "email.x_mailer":
        return c([lambda: c(MAILERS), lambda: "%s %d.%d" % (c(MAILERS), rng.randint(1, 9),
                                                            rng.randint(0, 9))])()
    if buf == "email.date":
        return c(["+1300", "+1400", "-1200", "Jan 1970", " 2037 ", " 2099 ", "GMT+",
                  "Sat, 01 Jan", "UT\r", "+0060"])
    if buf == "email.received":
        return c([lambda: c(RECEIVED), lambda: "%s %s.%s" % (c(RECEIVED), c(DOMAIN_WORDS),
                                                            c(TLDS))])()
    if buf == "email.header":
        return c([lambda: c(HEADERS), lambda: "Reply-To: %s@%s" % (c(ROLES), c(FREEMAIL)),
                  lambda: "Subject: %s" % spam_text(rng)])()
    if buf == "email.url":
        return c([lambda: c(URL_BITS), lambda: "%s-%s.%s/" % (c(DOMAIN_WORDS),
                                                             c(BRANDS).replace(" ", ""),
                                                             c(TLDS)),
                  lambda: ".%s/%s" % (c(TLDS), c(DOMAIN_WORDS))])()
    if buf == "file.name":
        return c([lambda: ".%s" % c(BAD_EXT), lambda: "%s_%d" % (c(FILE_WORDS),
                                                                rng.randint(100, 99999)),
                  lambda: ".pdf.%s" % c(BAD_EXT), lambda: "%s.%s" % (c(FILE_WORDS),
                                                                      c(BAD_EXT))])()
    if buf == "file.data":
        return c([lambda: spam_text(rng), lambda: c(BODY_CODE), lambda: c(BINARY)])()
    return spam_text(rng)  # email.subject


def spam_text(rng):
    c = rng.choice
    return c([lambda: "%s %s" % (c(VERBS), c(OBJECTS)), lambda: c(MONEY), lambda: c(JUNK),
              lambda: "%s %s" % (c(BRANDS), c(EVENTS)),
              lambda: "%s: %s" % (c(URGENCY), c(EVENTS)),
              lambda: "%s %s" % (c(URGENCY), c(MONEY))])()


# Regular expressions (Hyperscan-compatible: no back-references or look-around) for text the
# capture does not hold. Each is a function of rng so that rules differ.
def alt(rng, words, lo=2, hi=4):
    pick = rng.sample(words, min(len(words), rng.randint(lo, hi)))
    return "(?:%s)" % "|".join(re_words(w) for w in pick)


def re_words(text):
    """A phrase as a regex: words escaped, blanks as \\s+."""
    return r"\s+".join(re_escape(w) for w in text.split())


def miss_pcre(rng, buf):
    """(expression, flags) that the capture does not match."""
    r = rng.randint
    opts = {
        "smtp.helo": [
            lambda: (r"^(?:win|desktop|user|admin)-[a-z0-9]{%d,12}$" % r(4, 8), "i"),
            lambda: (r"^\[?\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\]?$", ""),
            lambda: (r"(?:dsl|pool|dyn|ppp|cable)[-.]\d{1,3}[-.]\d{1,3}[-.]\d{1,3}", "i"),
            lambda: (r"^[a-z0-9-]{3,20}\.%s$" % alt(rng, TLDS), "i"),
        ],
        "smtp.mail_from": [
            lambda: (r"^[a-z]{3,10}\d{%d,6}@%s$" % (r(2, 4), alt(rng, FREEMAIL)), "i"),
            lambda: (r"^%s@[a-z0-9-]{2,30}\.%s$" % (alt(rng, ROLES), alt(rng, TLDS)), "i"),
            lambda: (r"@%s-%s\." % (alt(rng, BRANDS), alt(rng, DOMAIN_WORDS)), "i"),
        ],
        "smtp.rcpt_to": [
            lambda: (r"^%s@" % alt(rng, TARGETS), "i"),
            lambda: (r"^[a-z0-9._-]{1,30}@%s$" % alt(rng, FREEMAIL), "i"),
        ],
        "email.from": [
            lambda: (r"%s\s+%s" % (alt(rng, BRANDS), alt(rng, ["support", "security",
                                                               "billing", "team"])), "i"),
            lambda: (r"<[a-z0-9._-]{1,40}@%s>$" % alt(rng, FREEMAIL), "i"),
            lambda: (r"^[^<]{0,40}%s[^<]{0,40}<[^>@]{1,60}@%s>" % (alt(rng, BRANDS),
                                                                  alt(rng, FREEMAIL)), "i"),
        ],
        "email.to": [
            lambda: (r"undisclosed[\s-]recipients", "i"),
            lambda: (r"(?:[a-z0-9._-]{1,30}@%s,\s*){3,}" % alt(rng, FREEMAIL), "i"),
        ],
        "email.cc": [
            lambda: (r"(?:[a-z0-9._-]{1,30}@[a-z0-9.-]{1,30},\s*){%d,}" % r(10, 30), ""),
            lambda: (r"@%s" % alt(rng, FREEMAIL), "i"),
        ],
        "email.subject": [
            lambda: (r"%s\s+your\s+%s" % (alt(rng, VERBS),
                                          alt(rng, [o[5:] for o in OBJECTS])), "i"),
            lambda: (r"\b%s\s+%s\b" % (alt(rng, BRANDS), alt(rng, EVENTS)), "i"),
            lambda: (r"^(?:re|fwd?)\x3a\s*%s" % alt(rng, MONEY + EVENTS), "i"),
            lambda: (r"\b(?:urgent|immediate|final)\s+(?:notice|action|warning|reminder)\b",
                     "i"),
            lambda: (r"(?:invoice|order|payment)\s*#?\s*[A-Z]{0,3}\d{%d,10}" % r(5, 7), "i"),
            lambda: (r"%s[!\s]{0,3}%s" % (alt(rng, JUNK), alt(rng, URGENCY)), "i"),
        ],
        "email.message_id": [
            lambda: (r"^<[0-9a-f]{32}@", ""),
            lambda: (r"@(?:localhost|phpmailer|swift\.generated)\b", "i"),
            lambda: (r"^<[A-Z0-9]{%d,}\$[0-9]{6,}@" % r(16, 24), ""),
            lambda: (r"@\[?\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\]?>$", ""),
        ],
        "email.x_mailer": [
            lambda: (r"^%s\s+v?\d+(?:\.\d+){1,2}" % alt(rng, MAILERS), "i"),
            lambda: (r"(?:outlook\s+express|the\s+bat!)\s+v?\d", "i"),
            lambda: (r"(?:mass|bulk|fast)[\s-]?mail(?:er)?", "i"),
        ],
        "email.date": [
            lambda: (r"[+-]1[3-9]\d\d$", ""),
            lambda: (r"\b(?:19[0-8]\d|20[4-9]\d)\b", ""),
            lambda: (r"^\w{3},\s+\d{1,2}\s+\w{3}\s+\d{4}\s+\d\d\x3a\d\d\x3a\d\d\s+[+-]1[2-4]\d\d$",
                     ""),
        ],
        "email.received": [
            lambda: (r"from\s+unknown\s+\(\[?\d{1,3}(?:\.\d{1,3}){3}\]?\)", "i"),
            lambda: (r"\(HELO\s+(?:localhost|user-pc|%s)\)" % alt(rng, DOMAIN_WORDS), "i"),
            lambda: (r"with\s+ESMTPA\s+id\s+[A-Za-z0-9]{%d,16}" % r(6, 10), ""),
            lambda: (r"\(may\s+be\s+forged\)", "i"),
            lambda: (r"from\s+%s\.%s\s" % (alt(rng, DOMAIN_WORDS), alt(rng, TLDS)), "i"),
        ],
        "email.header": [
            lambda: (r"^X-PHP-Originating-Script\x3a\s+\d+\x3a", ""),
            lambda: (r"^Reply-To\x3a\s+[^@]{0,40}@%s" % alt(rng, FREEMAIL), "i"),
            lambda: (r"^X-(?:MS)?(?:Mail-)?Priority\x3a\s+(?:1|High)", "i"),
            lambda: (r"^Content-Type\x3a\s+text/html\x3b\s*charset=%s" % alt(
                rng, ["koi8-r", "gb2312", "big5", "windows-1251", "shift_jis"]), "i"),
            lambda: (r"^Subject\x3a.{0,20}%s\s+%s" % (alt(rng, VERBS), alt(
                rng, [o[5:] for o in OBJECTS])), "i"),
        ],
        "email.url": [
            lambda: (r"//[a-z0-9-]{3,30}\.%s(?:/|$)" % alt(rng, TLDS, 3, 6), "i"),
            lambda: (r"(?:bit\.ly|tinyurl\.com|goo\.gl|is\.gd|cutt\.ly|rb\.gy)/[A-Za-z0-9]{%d,10}"
                     % r(4, 6), ""),
            lambda: (r"//\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}[/\x3a]", ""),
            lambda: (r"/(?:wp-admin|wp-includes|wp-content)/.{0,40}\.php", "i"),
            lambda: (r"%s.{0,20}\.(?:php|aspx?)\?(?:email|user|login)=" % alt(
                rng, DOMAIN_WORDS), "i"),
            lambda: (r"//[^/]{0,40}@", ""),
        ],
        "file.name": [
            lambda: (r"\.%s$" % alt(rng, BAD_EXT, 3, 6), "i"),
            lambda: (r"%s[_ -]?\d{%d,8}\.(?:zip|rar|iso|img|7z)$" % (alt(rng, FILE_WORDS),
                                                                     r(3, 5)), "i"),
            lambda: (r"\.(?:pdf|docx?|xlsx?)\s*\.(?:exe|scr|js|hta)$", "i"),
            lambda: (r"\s{5,}\.\w{2,4}$", ""),
        ],
        "file.data": [
            lambda: (r"(?:click|tap)\s+(?:here|below)\s+to\s+%s" % alt(rng, VERBS), "i"),
            lambda: (r"your\s+%s\s+(?:has\s+been|will\s+be)\s+(?:suspended|locked|deactivated|"
                     r"closed)" % alt(rng, ["account", "mailbox", "password", "card"]), "i"),
            lambda: (r"\b(?:bitcoin|btc|ethereum|usdt)\s+(?:wallet|address)\x3a?\s+"
                     r"[13b][a-z0-9]{6}", "i"),
            lambda: (r"<form[^>]{0,40}action=[\x22']?https?\x3a//", "i"),
            lambda: (r"(?:eval|unescape|atob|fromCharCode)\s*\(\s*[\x22']", ""),
            lambda: (r"\b(?:viagra|cialis|levitra|xanax)\b", "i"),
            lambda: (r"(?:100%|completely)\s+(?:free|guaranteed|risk[\s-]free)", "i"),
            lambda: (r"(?:dear|attn)\s+(?:beneficiary|winner|sir/madam|account\s+holder)", "i"),
            lambda: (r"(?:kindly|urgently)\s+(?:send|provide|confirm|reply|contact)", "i"),
            lambda: (r"\$\s?\d{1,3}(?:,\d{3})+(?:\.\d\d)?\s+(?:usd|dollars)", "i"),
            lambda: (r"(?:western\s+union|money\s*gram)\s+(?:transfer|payment|mtcn)", "i"),
            lambda: (r"%s\s+%s" % (alt(rng, BRANDS), alt(rng, EVENTS)), "i"),
            lambda: (r"powershell(?:\.exe)?\s+-(?:enc|e|encodedcommand)\s+[A-Za-z0-9+/]{%d}"
                     % r(8, 16), "i"),
        ],
    }
    return rng.choice(opts[buf])()


# ------------------------------------------------------------------ escaping


def re_escape(text):
    """Literal text as a regex: metacharacters and / escaped, and every byte that a rule
    value would take for itself (" ; : \\ ') and non-ASCII as \\xHH."""
    out = []
    for ch in text:
        for b in ch.encode():
            c = chr(b)
            if b >= 0x7f or b < 0x20 or c in "\";:\\'":
                out.append("\\x%02x" % b)
            elif c in ".^$|?*+()[]{}/":
                out.append("\\" + c)
            elif c == " ":
                out.append(r"\s")
            else:
                out.append(c)
    return "".join(out)


def content_value(data):
    """Bytes as a content value: printable ASCII as is, the rest (and " ; \\ | :) as |hex|."""
    if isinstance(data, str):
        data = data.encode()
    out, hexrun = [], []
    for b in data:
        if 0x20 <= b < 0x7f and chr(b) not in "\";\\|:":
            if hexrun:
                out.append("|%s|" % " ".join(hexrun))
                hexrun = []
            out.append(chr(b))
        else:
            hexrun.append("%02x" % b)
    if hexrun:
        out.append("|%s|" % " ".join(hexrun))
    return "".join(out)


def msg_text(data):
    if isinstance(data, bytes):
        data = data.decode("latin-1")
    s = re.sub(r"[^A-Za-z0-9 .@/_-]+", " ", data).strip()
    return re.sub(r"\s+", " ", s)[:48] or "binary"


def random_case(rng, text):
    return "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in text)


# ------------------------------------------------------------------ hit material

TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.@'%-][A-Za-z0-9]+)*%?")


def hit_sample(rng, buf):
    """(value, starts) of a value the capture holds: starts says offset 0 is a buffer start."""
    v = rng.choice(HIT[buf])
    if isinstance(v, tuple):
        return v
    return v, True


def span(rng, value, min_len=4, min_tokens=1, max_tokens=3, start_after=0):
    """A run of min_tokens..max_tokens tokens of value (fewer if value has fewer) starting at
    or after character start_after: (start, end) character offsets, or None."""
    toks = [m for m in TOKEN.finditer(value) if m.start() >= start_after]
    if not toks:
        return None
    min_tokens = min(min_tokens, len(toks))
    for _ in range(8):
        i = rng.randrange(len(toks) - min_tokens + 1)
        j = min(len(toks) - 1, i + rng.randrange(min_tokens - 1, max_tokens))
        a, b = toks[i].start(), toks[j].end()
        if len(value[a:b].encode()) >= min_len:
            return a, b
    return None


def nbytes(text):
    return len(text.encode())


def regexize(rng, text):
    """A regex that matches text, written as a rule author would: digit runs as \\d{..},
    blank runs as \\s+ or \\s, some words as alternations with words the capture lacks."""
    out = []
    for m in re.finditer(r"\d+|[A-Za-z]+|\s+|.", text):
        t = m.group()
        if t[0].isdigit():
            n = len(t)
            out.append(rng.choice([r"\d{%d}" % n, r"\d{1,%d}" % max(n, 2), r"\d+",
                                   "[0-9]{%d,%d}" % (n, n + 2)]))
        elif t[0].isalpha():
            if len(t) >= 4 and rng.random() < 0.2:
                other = rng.choice(["urgent", "winner", "refund", "wallet", "verify"])
                out.append("(?:%s|%s)" % (re_escape(t), other))
            else:
                out.append(re_escape(t))
        elif t[0].isspace():
            out.append(r"\s+" if len(t) > 1 or rng.random() < 0.6 else r"\s")
        else:
            out.append(re_escape(t))
    return "".join(out)


# ------------------------------------------------------------------ self-checks
# Python's re (bytes patterns: ASCII \d \s \w, as Hyperscan without UCP) stands in for
# Hyperscan here: a hit expression must match the value it was made from, a miss expression
# and a miss literal must not match any value the capture holds for that buffer.

def hit_values(buf):
    return [v[0] if isinstance(v, tuple) else v for v in HIT.get(buf, [])]


def holds(buf, phrase):
    data = phrase.encode() if isinstance(phrase, str) else phrase
    return any(data.lower() in v.encode().lower() for v in hit_values(buf))


def py_search(expr, flags, value, after=0):
    f = 0
    for ch, bit in (("i", re.I), ("s", re.S), ("m", re.M), ("x", re.X)):
        if ch in flags:
            f |= bit
    data = value.encode()[after:] if isinstance(value, str) else value[after:]
    rx = re.compile(expr.encode(), f)
    return (rx.match(data) if "A" in flags else rx.search(data)) is not None


def check_hit(buf, value, expr, flags, after=0):
    if not py_search(expr, flags, value, nbytes(value[:after])):
        raise AssertionError("%s: /%s/%s does not match %r" % (buf, expr, flags, value))


# ------------------------------------------------------------------ rules


class Rule:
    def __init__(self):
        self.opts = []

    def add(self, kw, value=None):
        self.opts.append(kw if value is None else "%s:%s" % (kw, value))


def content_opts(r, data, nocase=False, negated=False):
    r.add("content", "%s\"%s\"" % ("!" if negated else "", content_value(data)))
    if nocase:
        r.add("nocase")


def literal_rule(rng, r, buf, hit, full):
    """Contents only. Returns a short text for the msg."""
    if hit:
        value, starts = hit_sample(rng, buf)
        a, b = span(rng, value) or (0, len(value))
        text = value[a:b]
        ba, bb, blen = nbytes(value[:a]), nbytes(value[:b]), nbytes(value)
        nocase = rng.random() < 0.5
        shape = rng.random()
        second = span(rng, value, start_after=b + 1) if shape < 0.35 else None
        content_opts(r, random_case(rng, text) if nocase else text, nocase)
        if second is not None:
            c, d = second
            if full and rng.random() < 0.2:
                r.add("fast_pattern")
            nocase2 = rng.random() < 0.4
            text2 = value[c:d]
            content_opts(r, random_case(rng, text2) if nocase2 else text2, nocase2)
            if full:
                # the second content starts gap bytes after the first ends
                gap = nbytes(value[b:c])
                r.add("distance", str(rng.randint(0, gap)))
                if rng.random() < 0.7:
                    r.add("within", str(gap + nbytes(text2) + rng.randint(0, 20)))
            return "%s .. %s" % (msg_text(text), msg_text(text2))
        if full and starts and shape < 0.7:
            # positional: the match starts at or after offset and ends inside offset + depth
            if ba == 0 and rng.random() < 0.4:
                r.add("startswith")
            elif bb == blen and buf != "file.data" and rng.random() < 0.4:
                r.add("endswith")
            else:
                off = rng.randint(0, ba)
                if off > 0:
                    r.add("offset", str(off))
                r.add("depth", str(bb - off + rng.randint(0, 16)))
        elif full and shape < 0.8 and buf != "file.data" and blen - bb > 1:
            r.add("isdataat", "%d,relative" % rng.randint(1, blen - bb - 1))
        if rng.random() < 0.05:
            content_opts(r, miss_phrase(rng, buf), rng.random() < 0.5, negated=True)
        return msg_text(text)

    phrase = miss_phrase(rng, buf)
    nocase = isinstance(phrase, str) and rng.random() < 0.6
    data = phrase.encode() if isinstance(phrase, str) else phrase
    shape = rng.random()
    if shape < 0.25 and isinstance(phrase, str):
        content_opts(r, data, nocase)
        if full and rng.random() < 0.2:
            r.add("fast_pattern")
        other = miss_phrase(rng, buf)
        other = other.encode() if isinstance(other, str) else other
        content_opts(r, other, nocase)
        if full:
            dist = rng.randint(0, 40)
            r.add("distance", str(dist))
            if rng.random() < 0.6:
                r.add("within", str(dist + len(other) + rng.randint(0, 200)))
        return msg_text(phrase)
    content_opts(r, data, nocase)
    if full and shape < 0.45:
        kind = rng.random()
        if kind < 0.3:
            r.add("startswith")
        elif kind < 0.45 and buf != "file.data":
            r.add("endswith")
        else:
            off = rng.choice([0, 0, rng.randint(1, 64)])
            if off:
                r.add("offset", str(off))
            r.add("depth", str(len(data) + rng.randint(0, 256)))
    elif full and shape < 0.5:
        r.add("isdataat", "%d,relative" % rng.randint(1, 64))
    if rng.random() < 0.04:
        content_opts(r, miss_phrase(rng, buf) if buf != "file.data" else spam_text(rng),
                     rng.random() < 0.5, negated=True)
    return msg_text(phrase)


def pcre_value(expr, flags):
    """pcre:"/EXPR/FLAGS" with every '/' of EXPR escaped (a reader may stop at the first)."""
    assert not any(ch in expr for ch in "\";"), expr
    expr = re.sub(r"(?<!\\)((?:\\\\)*)/", r"\1\\/", expr)
    return "\"/%s/%s\"" % (expr, flags)


def pcre_rule(rng, r, buf, hit):
    shape = rng.random()
    if hit:
        value, starts = hit_sample(rng, buf)
        a, b = span(rng, value, min_len=6, min_tokens=2, max_tokens=4) or (0, len(value))
        text = value[a:b]
        flags = "i" if rng.random() < 0.6 else ""
        expr = regexize(rng, random_case(rng, text) if flags else text)
        if shape < 0.3:
            # content as the prefilter, then the pcre relative to it (R)
            first = TOKEN.match(text)
            if first is not None and first.end() < len(text) and first.end() >= 3:
                content_opts(r, first.group(), bool(flags))
                rest = regexize(rng, text[first.end():])
                check_hit(buf, value, rest, flags, after=first.end() + a)
                r.add("pcre", pcre_value(rest, flags + "R"))
                return msg_text(text)
        if shape < 0.55:
            word = max(TOKEN.findall(text), key=len, default=None)
            if word is not None and len(word) >= 4:
                content_opts(r, word, True)
                if rng.random() < 0.3:
                    r.add("fast_pattern")
        if starts and a == 0 and rng.random() < 0.5:
            if buf == "file.data" or rng.random() < 0.5:
                flags += "A"
            else:
                expr = "^" + expr
                flags += "m" if rng.random() < 0.5 else ""
        elif starts and b == len(value) and buf != "file.data" and rng.random() < 0.4:
            expr += "$"
        if rng.random() < 0.05:
            flags += "G"
        if rng.random() < 0.05 and r"\s" in expr:
            # extended: blanks in the expression are ignored, so spaces around \s are harmless
            expr = expr.replace(r"\s+", r" \s+ ", 1)
            flags += "x"
        if rng.random() < 0.1 and "." not in text:
            flags += "s"
        check_hit(buf, value, expr, flags)
        r.add("pcre", pcre_value(expr, flags))
        return msg_text(text)

    expr, flags = miss_pcre(rng, buf)
    while any(py_search(expr, flags, v) for v in hit_values(buf)):
        expr, flags = miss_pcre(rng, buf)
    if shape < 0.3 and "|" not in expr:
        # a word the expression cannot match without, as the prefilter content
        plain = re.sub(r"\\x[0-9a-f]{2}|\\.|\[[^]]*\]|\{[^}]*\}|[?*]", " ", expr)
        word = max(re.findall(r"(?<![A-Za-z])[A-Za-z-]{4,}", plain), key=len, default=None)
        if word is not None:
            content_opts(r, word, "i" in flags)
            if rng.random() < 0.3:
                r.add("fast_pattern")
    if rng.random() < 0.05:
        flags += "G"
    if rng.random() < 0.08 and "." in expr:
        flags += "s"
    r.add("pcre", pcre_value(expr, flags))
    words = re.findall(r"[A-Za-z][A-Za-z-]{2,}", re.sub(r"\\x[0-9a-f]{2}|\\[a-zA-Z]", " ", expr))
    return "pcre " + " ".join(words[:5])


def build(n_rules, seed, literal_only, hit_percent):
    rng = random.Random(seed)
    full = not literal_only
    names = [b for b, _ in BUFFERS]
    weights = [w for _, w in BUFFERS]
    lines, stats = [], {"literal": 0, "pcre": 0, "hit": 0, "flowbits": 0}
    i = 0
    while i < n_rules:
        sid = SID_BASE + 1 + i
        buf = rng.choices(names, weights)[0]
        hit = rng.random() * 100 < hit_percent
        if hit and buf not in HIT:
            buf = rng.choice([b for b in names if b in HIT])
        use_pcre = full and rng.random() < 0.4
        r = Rule()
        if rng.random() < 0.3:
            header = "smtp any any -> any any"
        elif hit:
            header = rng.choice(HEADERS_INTERNAL)
        else:
            header = rng.choice(HEADERS_INTERNAL + HEADERS_EXTERNAL)
        action = "drop" if rng.random() < 0.02 else "alert"
        pair = full and i + 1 < n_rules and rng.random() < 0.01
        r.add("msg", "")  # placeholder, filled below
        if full and rng.random() < 0.85:
            r.add("flow", "to_server,established")
        if pair:
            # a flowbits pair: the envelope sets a bit, a later rule checks it
            bit = "bench.fb%d" % sid
            r.add("smtp.mail_from")
            content_opts(r, miss_phrase(rng, "smtp.mail_from") if not hit
                         else hit_sample(rng, "smtp.mail_from")[0], True)
            r.add("flowbits", "set,%s" % bit)
            r.add("flowbits", "noalert")
            what = "envelope sets %s" % bit
        else:
            r.add(buf)
            what = pcre_rule(rng, r, buf, hit) if use_pcre else literal_rule(rng, r, buf,
                                                                             hit, full)
        stats["pcre" if use_pcre and not pair else "literal"] += 1
        stats["hit"] += 1 if hit and not pair else 0
        r.opts[0] = "msg:\"POSTERN BENCH %s %s\"" % (buf if not pair else "flowbits",
                                                      what.replace("\"", ""))
        finish(rng, r, sid, full)
        lines.append("%s %s (%s;)" % (action, header, "; ".join(r.opts)))
        i += 1
        if pair:
            sid = SID_BASE + 1 + i
            c = Rule()
            c.add("msg", "\"POSTERN BENCH flowbits checked %s\"" % bit)
            c.add("flow", "to_server,established")
            c.add("flowbits", "isset,%s" % bit)
            if hit:
                # every message has this date: fires exactly where the setter matched
                c.add("email.date")
                content_opts(c, "03 Jun 2024")
                stats["hit"] += 1
            else:
                c.add("email.subject")
                content_opts(c, miss_phrase(rng, "email.subject"), True)
            finish(rng, c, sid, full)
            lines.append("alert %s (%s;)" % (header, "; ".join(c.opts)))
            stats["literal"] += 1
            stats["flowbits"] += 1
            i += 1
    return lines, stats


def finish(rng, r, sid, full):
    if full and rng.random() < 0.02:
        r.add("threshold", "type limit, track by_src, count 1, seconds %d"
              % rng.choice([60, 300, 3600]))
    elif full and rng.random() < 0.01:
        r.add("detection_filter", "track by_src, count %d, seconds 60" % rng.randint(2, 20))
    if rng.random() < 0.1:
        r.add("reference", "url,postern.example/bench/%d" % sid)
    r.add("classtype", rng.choice(CLASSTYPES))
    if rng.random() < 0.3:
        r.add("metadata", "created_at 2024_%02d_%02d, signature_severity %s"
              % (rng.randint(1, 6), rng.randint(1, 28), rng.choice(["Minor", "Major"])))
    r.add("sid", str(sid))
    r.add("rev", str(rng.randint(1, 5)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules", type=int, required=True, help="rules to write (1..1000000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--out", required=True, help="pack to write")
    ap.add_argument("--literal-only", action="store_true",
                    help="content and nocase only (what the parser has always accepted)")
    ap.add_argument("--hit-percent", type=float, default=15.0,
                    help="rules built from what the bench capture holds (default 15)")
    args = ap.parse_args()
    if not 1 <= args.rules <= 1000000 or not 0 <= args.hit_percent <= 100:
        ap.error("--rules must be in 1..1000000 and --hit-percent in 0..100")
    lines, stats = build(args.rules, args.seed, args.literal_only, args.hit_percent)
    head = ["# SPDX-License-Identifier: BSD-3-Clause",
            "# Generated by tools/gen_rule_pack.py --rules %d --seed %d%s --hit-percent %g: "
            "a benchmark pack," % (args.rules, args.seed,
                                   " --literal-only" if args.literal_only else "",
                                   args.hit_percent),
            "# not a detection pack. %d literal, %d pcre; %d built from the bench capture's "
            "values." % (stats["literal"], stats["pcre"], stats["hit"]), ""]
    try:
        with open(args.out, "w", encoding="ascii") as f:
            f.write("\n".join(head + lines) + "\n")
    except OSError as e:
        sys.exit("gen_rule_pack: %s: %s" % (args.out, e.strerror))
    print("gen_rule_pack: %s: %d rules (%d literal, %d pcre, %d flowbits checks), %d built "
          "to fire on the bench capture" % (args.out, len(lines), stats["literal"],
                                             stats["pcre"], stats["flowbits"], stats["hit"]),
          file=sys.stderr)


if __name__ == "__main__":
    main()
