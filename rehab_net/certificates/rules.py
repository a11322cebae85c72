"""The certificate's number and dates as pure functions (no database): the operations, the
import and the daily job read them alike. docs/certificates.md states the rules."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from rehab_net.certificates import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.clock import add_months
from rehab_net.people.identifiers import (
    CERTIFICATE_CATEGORY_DIGIT,
    IdentifierError,
    parse_certificate,
)
from rehab_net.people.rules import add_years

VALIDITY_YEARS = 10
TRANSFER_MONTHS = 6  # a holder who moved out has this long to transfer the certificate
FROZEN_YEARS = 1  # then it is frozen for this long before it is cancelled
RENEWAL_NOTICE_DAYS = 90  # renewal opens this long before the end of validity ("due soon")
_SUFFIX = re.compile(r"B([1-9][0-9]?)")


@dataclass(frozen=True)
class Number:
    resident_id: str
    category_digit: int
    grade: int
    reissue: int  # 0 = the original, n = "Bn"


def parse_number(value: str) -> Number:
    """A certificate number: 20 characters (identifiers.parse_certificate: the resident ID with
    its check character, category 1-7, grade 1-4), then "B1", "B2" ... for a reissue.
    IdentifierError names the rule broken, never the number."""
    number = (value or "").strip().upper()
    head, tail = number[:20], number[20:]
    if len(head) < 20:
        raise IdentifierError("certificate.number_format")
    cert = parse_certificate(head)
    reissue = 0
    if tail:
        match = _SUFFIX.fullmatch(tail)
        if match is None:
            raise IdentifierError("certificate.suffix_format")
        reissue = int(match.group(1))
    return Number(cert.resident_id, cert.category_digit, cert.grade, reissue)


def check_holder(number: Number, resident_id: str) -> None:
    if number.resident_id != resident_id.strip().upper():
        raise IdentifierError("certificate.not_holder")


def category_digit(category: str) -> int:
    """A case category's digit on the certificate (DOMAIN.md: autism is certified as mental, 6)."""
    return CERTIFICATE_CATEGORY_DIGIT[category]


def valid_until(issued_on: date) -> date:
    """The last valid day: 10 years from issue, less a day (issued 2026-03-01 -> 2036-02-29)."""
    return add_years(issued_on, VALIDITY_YEARS) - timedelta(days=1)


def freeze_on(moved_out_on: date) -> date:
    """The day a certificate not transferred since the holder moved out is frozen: 6 months on
    (moved out 2026-03-15: transfer by 2026-09-14, frozen 2026-09-15)."""
    return add_months(moved_out_on, TRANSFER_MONTHS)


def lapse_on(frozen_on: date) -> date:
    """The day a frozen certificate is cancelled: a year after it was frozen."""
    return add_years(frozen_on, FROZEN_YEARS)


def renewal_opens(until: date) -> date:
    """From this day the holder should renew (the list's "due for renewal soon")."""
    return until - timedelta(days=RENEWAL_NOTICE_DAYS)


def next_step(state: str, until: date, freeze: date | None, lapse: date | None,
              today: date) -> tuple[str, date] | None:
    """The earliest date rule due by ``today`` for a certificate in force: (action, the day it
    took effect), or None. Expiry wins a tie (the day after ``until``)."""
    if state not in ("valid", "frozen"):
        return None
    steps = [("expire", until + timedelta(days=1))]
    if state == "valid" and freeze is not None:
        steps.append(("freeze", freeze))
    if state == "frozen" and lapse is not None:
        steps.append(("lapse", lapse))
    action, on = min(steps, key=lambda s: (s[1], s[0] != "expire"))
    return (action, on) if on <= today else None


TARGETS = {"freeze": "frozen", "lapse": "cancelled", "expire": "expired"}


def history(until: date, freeze: date | None, today: date) -> list[tuple[str, date]]:
    """The date rules' steps from "valid" up to ``today`` (the import writes them): e.g.
    [("freeze", 2025-09-15), ("lapse", 2026-09-15)]."""
    state, lapse, steps = "valid", None, []
    while (step := next_step(state, until, freeze, lapse, today)) is not None:
        steps.append(step)
        state = TARGETS[step[0]]
        if step[0] == "freeze":
            lapse = lapse_on(step[1])
    return steps
