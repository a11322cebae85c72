"""A few disability certificates for the sample (certificates.csv, docs/import-format.md): the
first SAMPLE_SIZE persons whose case carries a certificate number hold that certificate, issued
between 2016 and 2025. One in six moved out of the region in 2024-2026 (some transferred, most
not: frozen six months on or, a year later, cancelled); those issued before late 2016 have
expired. Few on purpose: the pages have something to show without slowing load-sample."""
from __future__ import annotations

from datetime import date, timedelta

SAMPLE_SIZE = 60
COLUMNS = ("code", "person_code", "number", "issued_on", "moved_out_on", "transferred_on",
           "cancelled_on", "cancel_reason")


def build(rng, persons) -> list[dict]:
    rows = []
    for p in persons:
        number = next((c.certificate_number for c in p.cases if c.certificate_number), None)
        if number is None:
            continue
        first = max(date(2016, 1, 1), p.birth_date + timedelta(days=30))
        issued = first + timedelta(days=rng.randrange(max(1, (date(2025, 12, 31) - first).days)))
        moved = transferred = ""
        if len(rows) % 6 == 5:
            # moved out between September 2024 and October 2026: pending, frozen or cancelled
            out = max(issued, date(2024, 9, 1)) + timedelta(days=rng.randrange(30, 760))
            if out <= date(2026, 10, 31):
                moved = out.isoformat()
                back = out + timedelta(days=rng.randrange(10, 150))
                if rng.random() < 0.3 and back <= date(2026, 10, 31):
                    transferred = back.isoformat()
        rows.append({"code": f"C{len(rows) + 1:06d}", "person_code": p.code, "number": number,
                     "issued_on": issued.isoformat(), "moved_out_on": moved,
                     "transferred_on": transferred, "cancelled_on": "", "cancel_reason": ""})
        if len(rows) == SAMPLE_SIZE:
            break
    return rows
