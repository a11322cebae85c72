"""Chinese personal identifiers: the resident ID number (GB 11643) and the second-generation
disability certificate number. Pure functions, no database: used by validation, import and the
sample generator alike.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rehab_net.messages import message
from rehab_net.people import messages as _messages  # noqa: F401 - registers the codes

# ISO 7064 MOD 11-2 as GB 11643 applies it: weights 2^(17-i) mod 11, remainder -> check character.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")

# GB/T 26341-2010 category digits on the certificate. Autism is certified as mental (6).
CERTIFICATE_CATEGORY_DIGIT = {
    "vision": 1, "hearing": 2, "speech": 3, "physical": 4,
    "intellectual": 5, "mental": 6, "multiple": 7, "autism": 6,
}


class IdentifierError(ValueError):
    """An identifier broke a rule; the message names the rule and never echoes the number."""

    def __init__(self, code: str, **params):
        super().__init__(message(code, **params))

    @property
    def rule(self):
        """The coded rule (str(exc) is its English text without the code)."""
        return self.args[0]


def check_character(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class ResidentId:
    number: str
    region_code: str
    birth_date: date
    sex: str  # "M" or "F"


def parse_resident_id(value: str) -> ResidentId:
    """Validate an 18-character resident ID number and return what it encodes.

    Accepts a lower-case x for the check character (people type it that way) and normalises it.
    """
    number = (value or "").strip().upper()
    if not _RESIDENT_ID.match(number):
        raise IdentifierError("person.id_format")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentifierError("person.id_birth_date_invalid") from None
    if birth.year < 1900:
        raise IdentifierError("person.id_birth_date_early")
    if number[17] != check_character(number[:17]):
        raise IdentifierError("person.id_check_character")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ResidentId(number=number, region_code=number[:6], birth_date=birth, sex=sex)


def make_resident_id(region_code: str, birth_date: date, sequence: int) -> str:
    """Build a valid resident ID number (used by the synthetic sample and by tests)."""
    if not (len(region_code) == 6 and region_code.isdigit()):
        raise ValueError("region_code must be 6 digits")
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be 0..999")
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


@dataclass(frozen=True)
class Certificate:
    resident_id: str
    category_digit: int
    grade: int


def parse_certificate(value: str) -> Certificate:
    """Validate a 20-character second-generation disability certificate number."""
    number = (value or "").strip().upper()
    if len(number) != 20:
        raise IdentifierError("case.certificate_format")
    parse_resident_id(number[:18])
    if number[18] not in "1234567":
        raise IdentifierError("case.certificate_category_digit")
    if number[19] not in "1234":
        raise IdentifierError("case.certificate_grade_digit")
    return Certificate(resident_id=number[:18], category_digit=int(number[18]),
                       grade=int(number[19]))


def make_certificate(resident_id: str, category: str, grade: int) -> str:
    return f"{resident_id}{CERTIFICATE_CATEGORY_DIGIT[category]}{grade}"


def check_certificate(value: str, *, resident_id: str, category: str, grade: int) -> Certificate:
    """Parse a certificate number; check it against the person's ID, the case category, grade."""
    cert = parse_certificate(value)
    if cert.resident_id != resident_id.strip().upper():
        raise IdentifierError("case.certificate_not_person")
    if cert.category_digit != CERTIFICATE_CATEGORY_DIGIT[category]:
        raise IdentifierError("case.certificate_category", digit=cert.category_digit,
                              category=category)
    if cert.grade != grade:
        raise IdentifierError("case.certificate_grade", digit=cert.grade, grade=grade)
    return cert
