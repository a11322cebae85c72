"""Generate the sample region's six files (docs/import-format.md), its activity
(practitioners.csv, schedule_rules.csv, activity.csv: sample_network/activity.py) and a few
certificates (certificates.csv: sample_network/certificates.py).

    python -m sample_network.generate [--out DIR]     (default: sample_network/data/)

Deterministic: the same code gives byte-identical files. Each part draws from its own random
stream seeded from SEED, so changing how persons are drawn does not move every village. Needs no
database and no app: only the standard library and rehab_net's identifier helpers."""
from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

from sample_network import activity, certificates
from sample_network.network import build_capacities, build_facilities, build_services
from sample_network.people import build_persons, open_demand
from sample_network.regions import build_regions

SEED = 20261123
DEFAULT_OUT = Path(__file__).resolve().parent / "data"

COLUMNS = {
    "regions.csv": ("code", "parent_code", "level", "kind", "name_zh", "name_en", "lat", "lon"),
    "facilities.csv": ("code", "name_zh", "name_en", "tier", "region_code", "lat", "lon",
                       "ownership", "designated", "status"),
    "services.csv": ("code", "category", "kind", "name_zh", "name_en", "tiers", "home_ok",
                     "duration_minutes"),
    "capacities.csv": ("facility_code", "service_code", "effective_from", "weekly_intake",
                       "concurrent_places"),
    "persons.csv": ("code", "name", "resident_id", "birth_date", "sex", "home_region_code",
                    "guardian_name", "guardian_phone", "poverty_status"),
    "cases.csv": ("code", "person_code", "category", "grade", "service_code", "registered_on",
                  "status", "certificate_number"),
    "practitioners.csv": activity.PRACTITIONER_COLUMNS,
    "schedule_rules.csv": activity.RULE_COLUMNS,
    "activity.csv": activity.ACTIVITY_COLUMNS,
    "certificates.csv": certificates.COLUMNS,
}


def stream(part: str) -> random.Random:
    """The random stream of one part of the sample (a str seed is hashed stably, not with
    Python's per-process hash)."""
    return random.Random(f"{SEED}:{part}")


def build() -> dict[str, list[dict]]:
    """All rows of all ten files."""
    regions = build_regions(stream("regions"))
    services = build_services()
    facilities = build_facilities(stream("facilities"), regions, services)
    persons = build_persons(stream("persons"), regions)
    capacities = build_capacities(stream("capacities"), facilities, services,
                                  open_demand(persons))
    # After the capacities (sized on the open demand as the people part drew it); sets the
    # status of the cases it refers now to "referred".
    work = activity.build(stream("activity"), persons, facilities, services, capacities)
    return {
        "regions.csv": [r.row() for r in regions],
        "facilities.csv": [f.row() for f in facilities],
        "services.csv": [s.row() for s in services],
        "capacities.csv": [c.row() for c in capacities],
        "persons.csv": [p.row() for p in persons],
        "cases.csv": [c.row() for p in persons for c in p.cases],
        "practitioners.csv": work.practitioners,
        "schedule_rules.csv": work.rules,
        "activity.csv": work.steps,
        "certificates.csv": certificates.build(stream("certificates"), persons),
    }


def write(out: Path, tables: dict[str, list[dict]]) -> None:
    """UTF-8 without a byte-order mark, LF line ends (friendlier to git than CRLF; the importer
    takes both)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with open(out / name, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS[name], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample_network.generate",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"directory to write to (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    tables = build()
    write(args.out, tables)
    print(f"wrote {', '.join(f'{len(rows)} {n}' for n, rows in tables.items())} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
