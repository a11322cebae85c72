"""Import problems name the physical line (and column) where they are: the line of a byte that is
not UTF-8, the line where a quote that is never closed opens, the first line of a row whose
quoted value spans several; and nothing is imported when there is one (defect 13 of issue 11)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from rehab_net import csvimport as ci
from rehab_net.cli import main
from rehab_net.network import importer as network_importer
from rehab_net.network.models import Capacity, Facility, Region, Service
from rehab_net.people.models import Case, Person

TINY = Path(__file__).parent / "data" / "tiny"
REGIONS = network_importer.SPECS["regions.csv"]
HEADER = "code,parent_code,level,kind,name_zh,name_en,lat,lon\n"


@pytest.fixture
def tiny(tmp_path):
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target


def run(app, *args):
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def nothing_imported(session) -> bool:
    session.expire_all()
    return all(session.scalar(select(func.count()).select_from(m)) == 0
               for m in (Region, Facility, Service, Capacity, Person, Case))


def village(n: int, name_en: str | None = None) -> str:
    return (f"150702001{n:03d},150702001,village,community,村{n},"
            f"{name_en or f'Village {n}'},49.2,119.7\n")


def regions_with(lines: list[str]) -> str:
    """The tiny regions (lines 1-8) and then `lines` from line 9 on."""
    return (TINY / "regions.csv").read_text(encoding="utf-8") + "".join(lines)


def read(path: Path, data: bytes) -> tuple[ci.Table, list[str]]:
    path.write_bytes(data)
    problems: list[ci.Problem] = []
    table = ci.read_table(REGIONS, path, problems)
    return table, [str(p) for p in sorted(problems)]


def not_utf8(file: str, line: int, column: str, byte: int, char: int) -> str:
    return (f"{file}:{line}:{column}: is not UTF-8 text: byte 0x{byte:02X} at character {char} "
            f"of line {line} cannot be decoded")


# --- bytes that are not UTF-8 -------------------------------------------------------------------
def test_a_foreign_byte_on_line_2_is_reported_on_line_2(tmp_path):
    data = (HEADER + "150700,,city,city,呼伦贝尔市,Hulunbuir,49.21,119.77\n").encode()
    table, problems = read(tmp_path / "regions.csv",
                           data.replace(b"Hulunbuir", b"H\xfclunbuir"))
    assert len(problems) == 1
    assert problems[0].startswith(not_utf8("regions.csv", 2, "name_en", 0xFC, 26) + "; save")
    assert table.rows == []


def test_bad_bytes_on_lines_2_and_5_are_each_reported_on_their_line(tmp_path):
    text = regions_with([])
    data = text.encode().replace("海拉尔区".encode(), "海拉尔区".encode("gbk")).replace(
        "示例苏木".encode(), "示例".encode() + "苏木".encode()[:4])
    _, problems = read(tmp_path / "regions.csv", data)
    assert [p.split(": is not")[0] for p in problems] == ["regions.csv:3:name_zh",
                                                          "regions.csv:7:name_zh"]
    # 海拉尔区 in GBK: 8 bytes, none of them UTF-8; 木 cut to its first byte 0xE6.
    assert "byte 0xBA at character 33 of line 3 cannot be decoded (and 7 more bytes after it)" \
        in problems[0]
    assert "byte 0xE6 at character 35 of line 7 cannot be decoded;" in problems[1]


def test_a_character_cut_by_the_end_of_the_file_on_line_3(tmp_path):
    full = (HEADER + "150700,,city,city,呼伦贝尔市,Hulunbuir,49.21,119.77\n"
            "150702,150700,district,district,海拉尔区").encode()
    _, problems = read(tmp_path / "regions.csv", full[:-2])  # 区 is 3 bytes: 1 of them left
    assert problems == ["regions.csv:3:-: has 5 cells, the header has 8",
                        not_utf8("regions.csv", 3, "name_zh", 0xE5, 36)
                        + "; save the file as UTF-8"]


def test_cli_not_utf8_names_file_line_and_column_and_imports_nothing(app, session, tiny):
    persons = tiny / "persons.csv"
    # GBK: 示 is 0xCA 0xBE, which UTF-8 reads as one (other) character; 例乙 are not UTF-8.
    persons.write_bytes(persons.read_bytes().replace("示例乙".encode(), "示例乙".encode("gbk")))
    assert run(app, "import", "network", str(tiny)).exit_code == 0
    before = session.scalar(select(func.count()).select_from(Region))
    result = run(app, "import", "people", str(tiny))
    assert result.exit_code == 2
    assert "persons.csv:3:name: is not UTF-8 text: byte 0xC0 at character 10 of line 3 cannot " \
        "be decoded (and 3 more bytes after it)" in result.output, result.output
    assert "nothing was imported" in result.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Person)) == 0
    assert session.scalar(select(func.count()).select_from(Region)) == before


def test_cli_bad_byte_on_line_5_of_the_network_imports_nothing(app, session, tiny):
    regions = tiny / "regions.csv"
    regions.write_bytes(regions.read_bytes().replace(b"Shili Community", b"Shili Community\xff"))
    result = run(app, "import", "network", str(tiny))
    assert result.exit_code == 2
    assert "regions.csv:5:name_en: is not UTF-8 text: byte 0xFF at character 62 of line 5" \
        in result.output, result.output
    assert nothing_imported(session)


# --- quotes -------------------------------------------------------------------------------------
def unclosed_quote_file(lines: int, name_len: int = 10) -> str:
    """regions.csv of `lines` lines whose line 21 opens a quote never closed."""
    rows = [village(n, "V" * name_len) for n in range(2, lines - 8 + 2)]
    rows[21 - 9] = village(14, '"Village 14')
    text = regions_with(rows)
    assert text.count("\n") == lines and text.splitlines()[20].startswith("150702001014,")
    return text


def test_an_unclosed_quote_is_reported_where_it_opens_not_at_the_end(tmp_path):
    table, problems = read(tmp_path / "regions.csv", unclosed_quote_file(1361).encode())
    assert problems == ['regions.csv:21:name_en: is not valid CSV: the quote (") at character 46 '
                        'of line 21 is never closed (unexpected end of data)']
    assert table.lines == list(range(2, 21))


def test_an_unclosed_quote_that_outgrows_csvs_field_limit_too(tmp_path):
    # 120-character names: the open value passes csv's 131072-character limit mid-file.
    _, problems = read(tmp_path / "regions.csv", unclosed_quote_file(1361, 120).encode())
    assert len(problems) == 1
    assert problems[0].startswith('regions.csv:21:name_en: is not valid CSV: the quote (") at '
                                  "character 46 of line 21 is never closed (field larger than")


def test_cli_unclosed_quote_on_line_21_of_1361_imports_nothing(app, session, tiny):
    (tiny / "regions.csv").write_text(unclosed_quote_file(1361), encoding="utf-8")
    result = run(app, "import", "network", str(tiny))
    assert result.exit_code == 2
    assert 'regions.csv:21:name_en: is not valid CSV: the quote (") at character 46 of line ' \
        "21 is never closed" in result.output, result.output
    assert "1361" not in result.output
    assert nothing_imported(session)


def test_a_value_over_several_lines_keeps_every_later_line_number(tmp_path):
    rows = [village(2, '"Village\ntwo, on\nthree lines"'),  # lines 9-11
            village(3).replace("49.2", "91"),  # line 12: bad lat
            village(4, '"two ""quoted""\nlines"').replace("119.7", "181"),  # lines 13-14
            village(2)]  # line 15: the code of line 9 again
    path = tmp_path / "regions.csv"
    table, problems = read(path, regions_with(rows).encode())
    assert problems == ["regions.csv:12:lat: must be between -90 and 90",
                        "regions.csv:13:lon: must be between -180 and 180"]
    assert table.lines == [2, 3, 4, 5, 6, 7, 8, 9, 15]
    assert table.rows[7]["name_en"] == "Village\ntwo, on\nthree lines"
    dupes: list[ci.Problem] = []
    ci.check_unique(table, "code", dupes)
    assert [str(p) for p in dupes] == ["regions.csv:15:code: duplicates line 9; must be unique"]


def test_a_stray_character_after_a_closing_quote_is_reported_on_its_line(tmp_path):
    rows = [village(2, '"Village"2')]  # line 9
    _, problems = read(tmp_path / "regions.csv", regions_with(rows).encode())
    assert problems == ["regions.csv:9:-: is not valid CSV: ',' expected after '\"'"]
