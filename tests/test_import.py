"""`rehab-net import`: validated first, written in one transaction, every problem named by
FILE:ROW:COLUMN; a bad file changes nothing."""
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from rehab_net.cli import main
from rehab_net.network.models import Capacity, Facility, Region, Service
from rehab_net.people.models import Case, Person

TINY = Path(__file__).parent / "data" / "tiny"
NETWORK = ["regions.csv", "facilities.csv", "services.csv", "capacities.csv"]


def run(app, *args):
    result = CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))
    return result


def counts(session):
    session.expire_all()
    return {m.__name__: session.scalar(select(func.count()).select_from(m))
            for m in (Region, Facility, Service, Capacity, Person, Case)}


@pytest.fixture
def tiny(tmp_path):
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_import_network_then_people(app, session, tiny):
    result = run(app, "import", "network", *(str(tiny / n) for n in NETWORK))
    assert result.exit_code == 0, result.output
    assert "7 regions" in result.output
    result = run(app, "import", "people", str(tiny))
    assert result.exit_code == 0, result.output
    assert counts(session) == {"Region": 7, "Facility": 4, "Service": 2, "Capacity": 5,
                               "Person": 3, "Case": 3}
    village = session.scalar(select(Region).where(Region.code == "150727001001"))
    assert village.parent.parent.code == "150727" and village.kind == "gacha"


def test_reimport_updates_rows_and_replaces_same_dated_capacity(app, session, tiny):
    assert run(app, "import", "network", str(tiny)).exit_code == 0
    edit(tiny / "facilities.csv", "Shili Street Rehab Station", "Shili Street Station (renamed)")
    edit(tiny / "capacities.csv", "CT01,autism_training,2026-07-01,6,30",
         "CT01,autism_training,2026-07-01,8,30")
    assert run(app, "import", "network", str(tiny)).exit_code == 0
    station = session.scalar(select(Facility).where(Facility.code == "ST150702001"))
    session.refresh(station)
    assert station.name_en == "Shili Street Station (renamed)" and station.version == 2
    intakes = session.scalars(select(Capacity.weekly_intake).join(Facility).where(
        Facility.code == "CT01").order_by(Capacity.effective_from)).all()
    assert intakes == [4, 8]
    assert counts(session)["Capacity"] == 5


def test_broken_rows_in_several_files_change_nothing_and_are_all_reported(app, session, tiny):
    assert run(app, "import", "network", str(tiny)).exit_code == 0
    before = counts(session)
    edit(tiny / "regions.csv", "150702001001,150702001,village,community,示例社区",
         "150702001001,150702001,village,community,示例社区改")  # a valid change ...
    edit(tiny / "regions.csv", "48.45,116.4", "98.45,116.4")  # ... beside a broken latitude
    edit(tiny / "facilities.csv", "clinic,150727001001", "hospital,150727001001")
    edit(tiny / "capacities.csv", "ST150702001,autism_training,2026-01-01,1,4",
         "ST150702001,autism_training,2026-13-01,1.5,4")
    result = run(app, "import", "network", str(tiny))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert "regions.csv:8:lat: must be between -90 and 90" in lines
    assert "facilities.csv:5:tier: must be one of centre, station, clinic" in lines
    assert "capacities.csv:4:effective_from: is not a real date" in lines
    assert "capacities.csv:4:weekly_intake: must be a whole number" in lines
    assert lines[-1] == "4 problem(s); nothing was imported."
    assert counts(session) == before
    name = session.scalar(select(Region.name_zh).where(Region.code == "150702001001"))
    assert name == "示例社区"


@pytest.mark.parametrize("file, old, new, expected", [
    ("regions.csv", "150727001,150727,township", "150727001,150702001,township",
     "regions.csv:7:parent_code: must be a district (one level above a township), 150702001 is "
     "a township"),
    ("regions.csv", "150727001001,150727001,village", "150702001002,150727001,village",
     "regions.csv:8:code: must start with its parent's code 150727001"),
    ("regions.csv", "150702001,150702,township,street", "150702001,150702,township,gacha",
     "regions.csv:4:kind: must be one of township, sumu, street for a township"),
    ("regions.csv", "150702,150700,district,district,海拉尔区",
     "150700,150700,district,district,海拉尔区", "regions.csv:3:code: duplicates line 2; must be "
     "unique"),
    ("facilities.csv", "ST150702001,示例街道康复站", "ST150702001,示例街道康复站,extra",
     "facilities.csv:3:-: has 11 cells, the header has 10"),
    ("facilities.csv", "clinic,150727001001", "clinic,150727001999",
     "facilities.csv:5:region_code: region 150727001999 does not exist"),
    ("facilities.csv", "public,true,open", "public,yes,open",
     "facilities.csv:2:designated: must be true or false"),
    ("services.csv", "autism_training,autism,training", "autism_training,autism,surgery",
     "services.csv:2:code: must be <category>_<kind>, here autism_surgery"),
    ("services.csv", "centre;station,false", "centre;hospital,false",
     "services.csv:2:tiers: must be tiers from centre, station, clinic separated by ;"),
    ("capacities.csv", "CL150727001001,physical_follow_up", "CL150727001001,autism_training",
     "capacities.csv:6:service_code: service autism_training is not delivered at tier clinic "
     "(only centre;station)"),
    ("capacities.csv", "CT01,autism_training,2026-07-01", "CT01,autism_training,2026-01-01",
     "capacities.csv:3:effective_from: duplicates line 2 (same facility, service and date)"),
    ("capacities.csv", "weekly_intake,concurrent_places", "weekly_intake,places",
     "capacities.csv:1:concurrent_places: required column is missing"),
])
def test_network_rules(app, session, tiny, file, old, new, expected):
    edit(tiny / file, old, new)
    result = run(app, "import", "network", str(tiny))
    assert result.exit_code == 2
    assert expected in result.output.splitlines(), result.output
    assert counts(session)["Region"] == 0


def test_unknown_column_and_not_utf8(app, session, tiny):
    edit(tiny / "services.csv", "duration_minutes\n", "duration_minutes,colour\n")
    (tiny / "regions.csv").write_bytes("code,name\n1,\xff\n".encode("latin-1"))
    result = run(app, "import", "network", str(tiny))
    assert result.exit_code == 2
    assert "services.csv:1:colour: unknown column" in result.output
    assert ("regions.csv:2:-: is not UTF-8 text: byte 0xFF at character 3 of line 2 cannot be "
            "decoded; save the file as UTF-8") in result.output


def test_unknown_file_name(app, tmp_path):
    bogus = tmp_path / "stations.csv"
    bogus.write_text("code\n", encoding="utf-8")
    result = run(app, "import", "network", str(bogus))
    assert result.exit_code == 2
    assert "stations.csv:0:-: is not a known file" in result.output


@pytest.mark.parametrize("file, old, new, expected", [
    ("persons.csv", "2021-04-05,M", "2021-04-06,M",
     "persons.csv:2:birth_date: does not match the birth date in resident_id"),
    ("persons.csv", "1968-09-30,F", "1968-09-30,M",
     "persons.csv:3:sex: does not match resident_id (its 17th digit: odd = M)"),
    ("persons.csv", "15070220210405031X", "150702202104050310",
     "persons.csv:2:resident_id: check character does not match (ISO 7064 MOD 11-2)"),
    ("persons.csv", "150727001001,,,none", "150727001,,,none",
     "persons.csv:3:home_region_code: must be an existing village-level region, 150727001 is "
     "not"),
    ("persons.csv", "15072719680930012X", "15070220210405031X",
     "persons.csv:3:resident_id: the same number is on line 2"),
    ("cases.csv", "15070220210405031X63", "15070220210405031X62",
     "cases.csv:2:certificate_number: grade digit 2 does not match the case grade 3"),
    ("cases.csv", "K000003,P000003,autism,2,autism_training,2026-08-20",
     "K000003,P000003,autism,2,physical_follow_up,2026-08-20",
     "cases.csv:4:service_code: is a physical service; the case's category is autism"),
    ("cases.csv", "2026-08-20", "2019-08-20",
     "cases.csv:4:registered_on: is before the person's birth"),
    ("cases.csv", "2026-10-12", "2027-10-12", "cases.csv:3:registered_on: is in the future"),
    ("cases.csv", "K000002,P000002", "K000002,P000009",
     "cases.csv:3:person_code: person P000009 does not exist"),
])
def test_people_rules(app, session, tiny, file, old, new, expected):
    assert run(app, "import", "network", str(tiny)).exit_code == 0
    edit(tiny / file, old, new)
    result = run(app, "import", "people", str(tiny))
    assert result.exit_code == 2
    assert expected in result.output.splitlines(), result.output
    assert counts(session)["Person"] == 0 and counts(session)["Case"] == 0


def test_problem_messages_never_quote_resident_ids(app, tiny):
    assert run(app, "import", "network", str(tiny)).exit_code == 0
    edit(tiny / "persons.csv", "15070220210405031X", "150702202104050310")
    result = run(app, "import", "people", str(tiny))
    assert "15070220210405" not in result.output


def test_load_sample_from_a_directory_and_if_empty(app, session, tiny):
    result = run(app, "load-sample", "--dir", str(tiny))
    assert result.exit_code == 0, result.output
    assert counts(session)["Case"] == 3
    result = run(app, "load-sample", "--dir", str(tiny), "--if-empty")
    assert "already loaded" in result.output
    assert counts(session)["Case"] == 3
