"""Realistic text for synthetic documents: names, addresses, dates, amounts, codes, prose.

Deterministic for a given ``random.Random``. Word lists are small on purpose: the model must
learn to read characters, not memorise a vocabulary, so lists are mixed with random
alphanumeric codes, numbers and made-up words.
"""

from __future__ import annotations

import random
import string

FIRST = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony "
    "Betty Mark Sandra Donald Ashley Steven Emily Andrew Donna Paul Michelle Joshua Carol "
    "Kenneth Amanda Kevin Melissa Brian Deborah Priya Wei Aisha Carlos Fatima Hiroshi Olga "
    "Mateo Ingrid Kwame Sofia Lars Amara Dmitri Yuki Omar Chloe"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White "
    "Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres "
    "Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Patel Okafor "
    "Kowalski Schmidt Rossi Tanaka Novak Haddad Lindqvist Dubois Mensah"
).split()
STREETS = (
    "Main Oak Pine Maple Cedar Elm Harbour Castle Station Church Mill High Park Bridge Victoria "
    "Queen King Market Garden River Hill Lake Forest Meadow Spring"
).split()
STREET_KINDS = (
    "Street Road Avenue Lane Drive Way Close Boulevard Place Court"
).split()
CITIES = (
    "London Bristol Leeds Manchester Glasgow Dublin Berlin Munich Paris Lyon Madrid Lisbon Rome "
    "Milan Vienna Zurich Amsterdam Brussels Oslo Stockholm Boston Chicago Denver Austin Seattle "
    "Toronto Sydney Singapore Nairobi Lagos Mumbai Osaka"
).split()
COMPANY_A = (
    "Northwind Contoso Acme Globex Initech Umbrella Stark Wayne Tyrell Cyberdyne Hooli Vandelay "
    "Soylent Oceanic Pied Piper Aperture Wonka Gringotts Monarch Meridian Summit Apex Vertex "
    "Horizon Pinnacle Evergreen Silverline Bluebird"
).split()
COMPANY_B = (
    "Traders Analytics Logistics Holdings Systems Foods Motors Energy Pharma Insurance "
    "Consulting Media Labs Supplies Partners Industries Retail Bakery Hardware Books "
    "Electronics Furniture Printing Services"
).split()
COMPANY_C = ["Ltd", "LLC", "Inc.", "GmbH", "S.A.", "plc", "Co.", "Sdn Bhd", "B.V.", ""]
WORDS = (
    "the of and to in is for on that with as by this be are from at or an have not which all "
    "will can has more one their been were other its than into only also any new some time "
    "these such may each two use over under after before total amount payment account invoice "
    "order number date customer service product price quantity report summary result table "
    "figure section page value field form name address signature approved received balance due "
    "tax discount shipping delivery item unit description reference policy claim period annual "
    "quarter review data analysis method sample document system process record status note "
    "request contract client project budget cost revenue growth market sales management "
    "research development quality standard required available information section agreement "
    "terms"
).split()
ITEMS = (
    "Paper A4 ream|Toner cartridge|Office chair|Desk lamp|Consulting hours|"
    "Software licence|Printing service|Coffee beans 1kg|Delivery fee|Cable HDMI 2m|"
    "USB drive 64GB|Notebook pack|Sandwich|Latte|Bottled water|Chicken rice|"
    "Maintenance visit|Annual subscription|Training session|Cloud storage|Envelopes C5|"
    "Stapler|Monitor 27in|Keyboard|Mouse pad|Fuel|Parking|Taxi fare|Hotel night|"
    "Conference ticket"
).split("|")
MONTHS = (
    "January February March April May June July August September October November December"
).split()


def name(r: random.Random) -> str:
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def company(r: random.Random) -> str:
    return " ".join(x for x in (r.choice(COMPANY_A), r.choice(COMPANY_B), r.choice(COMPANY_C))
                    if x)


def street(r: random.Random) -> str:
    return f"{r.randint(1, 480)} {r.choice(STREETS)} {r.choice(STREET_KINDS)}"


def postcode(r: random.Random) -> str:
    kind = r.random()
    if kind < 0.4:
        return f"{r.randint(10000, 99999)}"
    if kind < 0.7:
        L = string.ascii_uppercase
        return (f"{r.choice(L)}{r.choice(L)}{r.randint(1, 20)} "
                f"{r.randint(1, 9)}{r.choice(L)}{r.choice(L)}")
    return f"{r.randint(1000, 9999)}"


def address(r: random.Random) -> list[str]:
    return [street(r), f"{postcode(r)} {r.choice(CITIES)}"]


def date(r: random.Random) -> str:
    y, m, d = r.randint(1995, 2029), r.randint(1, 12), r.randint(1, 28)
    fmt = r.randrange(6)
    return [f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d} {MONTHS[m - 1]} {y}",
            f"{MONTHS[m - 1][:3]} {d}, {y}", f"{d:02d}.{m:02d}.{y}",
            f"{m:02d}/{d:02d}/{str(y)[2:]}"][fmt]


def amount(r: random.Random, lo: float = 0.5, hi: float = 5000.0) -> str:
    v = round(r.uniform(lo, hi) if r.random() < 0.7 else r.uniform(lo, hi / 50), 2)
    s = f"{v:,.2f}" if r.random() < 0.6 else f"{v:.2f}"
    return s


def code(r: random.Random) -> str:
    L, D = string.ascii_uppercase, string.digits
    pat = r.choice(["LL-DDDD", "LLL-DDDDD", "DDDDDDDD", "LL DDD DDD", "INV-DDDD-DDDD",
                    "LLDDDDLL", "DDD-DDD-DDDD", "LDDDDD"])
    return "".join(r.choice(L) if c == "L" else r.choice(D) if c == "D" else c for c in pat)


def phone(r: random.Random) -> str:
    return r.choice([f"+44 {r.randint(1000, 9999)} {r.randint(100000, 999999)}",
                     f"({r.randint(200, 999)}) {r.randint(200, 999)}-{r.randint(1000, 9999)}",
                     f"0{r.randint(10, 99)} {r.randint(100, 999)} {r.randint(1000, 9999)}"])


def email(r: random.Random) -> str:
    return f"{r.choice(FIRST).lower()}.{r.choice(LAST).lower()}@{r.choice(COMPANY_A).lower()}.com"


def made_up_word(r: random.Random) -> str:
    cons, vow = "bcdfghjklmnprstvwz", "aeiou"
    return "".join(r.choice(cons) + r.choice(vow) for _ in range(r.randint(1, 4)))


def word(r: random.Random) -> str:
    x = r.random()
    if x < 0.72:
        w = r.choice(WORDS)
    elif x < 0.82:
        w = made_up_word(r)
    elif x < 0.9:
        w = str(r.randint(0, 9999))
    else:
        w = r.choice(LAST + CITIES)
    return w


def sentence(r: random.Random, lo: int = 5, hi: int = 16) -> str:
    ws = [word(r) for _ in range(r.randint(lo, hi))]
    ws[0] = ws[0].capitalize()
    for i in range(1, len(ws) - 1):
        if r.random() < 0.08:
            ws[i] += ","
    return " ".join(ws) + r.choice([".", ".", ".", ";", ":", "?"])


def paragraph(r: random.Random, n: int | None = None) -> str:
    return " ".join(sentence(r) for _ in range(n or r.randint(2, 5)))


def title(r: random.Random) -> str:
    ws = [word(r).capitalize() for _ in range(r.randint(2, 6))]
    return " ".join(ws)


def line_of_text(r: random.Random) -> str:
    """A short text of the kinds documents hold, for reading samples and tokenizer corpora."""
    k = r.randrange(12)
    makers = [lambda: sentence(r, 3, 10), lambda: name(r), lambda: company(r),
              lambda: street(r), lambda: ", ".join(address(r)), lambda: date(r),
              lambda: amount(r), lambda: code(r), lambda: phone(r), lambda: email(r),
              lambda: title(r),
              lambda: f"{r.choice(ITEMS)} {r.randint(1, 20)} x {amount(r, 0.5, 200)}"]
    return makers[k]()


def corpus(n: int, seed: int = 0) -> list[str]:
    r = random.Random(seed)
    return [line_of_text(r) if i % 3 else paragraph(r, 2) for i in range(n)]
