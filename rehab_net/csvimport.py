"""Reading and checking CSV files for imports, with every problem reported as FILE:ROW:COLUMN.

A FileSpec lists the columns and how to parse each cell. `read_table` parses one file into dicts
and collects problems instead of stopping at the first; the importers add their cross-row and
cross-file checks and write only when no problem is left (all-or-nothing).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class CellError(ValueError):
    """A cell broke a rule; the message is the rule, in words a data clerk understands."""


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    row: int  # 1 = the header line
    column: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.rule}"


class ImportProblems(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = sorted(problems)


@dataclass
class Table:
    name: str
    rows: list[dict] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the source line of each row


Parser = Callable[[str], object]


def code(value: str) -> str:
    if not CODE.match(value):
        raise CellError("must be 1-32 characters of A-Z a-z 0-9 _ -")
    return value


def text(max_len: int) -> Parser:
    def parse(value: str) -> str:
        if len(value) > max_len:
            raise CellError(f"must be at most {max_len} characters")
        return value
    return parse


def one_of(values: Iterable[str]) -> Parser:
    allowed = tuple(values)

    def parse(value: str) -> str:
        if value not in allowed:
            raise CellError(f"must be one of {', '.join(allowed)}")
        return value
    return parse


def number(lo: float, hi: float) -> Parser:
    def parse(value: str) -> float:
        try:
            x = float(value)
        except ValueError:
            raise CellError("must be a number") from None
        if not lo <= x <= hi:  # also false for NaN
            raise CellError(f"must be between {lo:g} and {hi:g}")
        return x
    return parse


def integer(lo: int, hi: int) -> Parser:
    def parse(value: str) -> int:
        if not re.fullmatch(r"[+-]?\d+", value):
            raise CellError("must be a whole number")
        x = int(value)
        if not lo <= x <= hi:
            raise CellError(f"must be between {lo} and {hi}")
        return x
    return parse


def iso_date(value: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise CellError("must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CellError("is not a real date") from None


def boolean(value: str) -> bool:
    if value not in ("true", "false"):
        raise CellError("must be true or false")
    return value == "true"


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parser
    optional: bool = False


@dataclass(frozen=True)
class FileSpec:
    name: str  # e.g. "regions.csv"
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def read_table(spec: FileSpec, path: Path, problems: list[Problem]) -> Table:
    """Parse one file. Cells that break a rule are reported and left out of the row."""
    table = Table(spec.name)
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(spec.name, 1, "-", f"is not UTF-8 (byte {exc.start})"))
        return table
    except OSError as exc:
        problems.append(Problem(spec.name, 0, "-", f"cannot be read: {exc.strerror}"))
        return table
    reader = csv.reader(io.StringIO(raw, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header:
            problems.append(Problem(spec.name, 1, "-", "is empty; a header line is required"))
            return table
        header = [h.strip() for h in header]
        missing = [c for c in spec.column_names if c not in header]
        unknown = [h for h in header if h not in spec.column_names]
        dupes = sorted({h for h in header if header.count(h) > 1})
        for c in missing:
            problems.append(Problem(spec.name, 1, c, "required column is missing"))
        for h in unknown:
            problems.append(Problem(spec.name, 1, h or "(blank)", "unknown column"))
        for h in dupes:
            problems.append(Problem(spec.name, 1, h, "column appears more than once"))
        if missing or unknown or dupes:
            return table
        index = {name: header.index(name) for name in spec.column_names}
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # a blank line, e.g. at the end of the file
            if len(record) != len(header):
                problems.append(Problem(spec.name, line, "-",
                                        f"has {len(record)} cells, the header has {len(header)}"))
                continue
            row, ok = {}, True
            for col in spec.columns:
                value = record[index[col.name]].strip()
                if value == "":
                    if not col.optional:
                        problems.append(Problem(spec.name, line, col.name, "is required"))
                        ok = False
                    row[col.name] = None
                    continue
                try:
                    row[col.name] = col.parse(value)
                except CellError as exc:
                    problems.append(Problem(spec.name, line, col.name, str(exc)))
                    ok = False
            if ok:
                table.rows.append(row)
                table.lines.append(line)
    except csv.Error as exc:
        problems.append(Problem(spec.name, reader.line_num, "-", f"is not valid CSV: {exc}"))
    return table


def check_unique(table: Table, column: str, problems: list[Problem]) -> None:
    seen: dict[object, int] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        key = row[column]
        if key in seen:
            problems.append(Problem(table.name, line, column,
                                    f"duplicates line {seen[key]}; must be unique"))
        else:
            seen[key] = line


def pick_files(paths: Iterable[Path], specs: dict[str, FileSpec]) -> dict[str, Path]:
    """Map recognised file names to paths; a directory stands for the known files inside it."""
    found: dict[str, Path] = {}
    unknown: list[Problem] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for name in specs:
                if (p / name).exists():
                    found[name] = p / name
        elif p.name in specs:
            found[p.name] = p
        else:
            unknown.append(Problem(p.name, 0, "-",
                                   f"is not a known file; expected one of {', '.join(specs)}"))
    if unknown:
        raise ImportProblems(unknown)
    return found
