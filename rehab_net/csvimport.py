"""Reading and checking CSV files for imports, with every problem reported as FILE:ROW:COLUMN.

A FileSpec lists the columns and how to parse each cell. `read_table` parses one file into dicts
and collects problems instead of stopping at the first; the importers add their cross-row and
cross-file checks and write only when no problem is left (all-or-nothing).
"""
from __future__ import annotations

import bisect
import csv
import functools
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


# Bytes that are not UTF-8 are decoded as lone surrogates (errors="surrogateescape"), one per
# byte, so the file is still parsed and each bad byte is reported in its cell, at its own line.
_BAD_BYTE = re.compile("[\udc80-\udcff]")
_LINE_BREAK = re.compile("\r\n|\r|\n")  # what csv (and io with newline="") count as lines


class _Lines:
    """Offsets in the text <-> physical lines (1-based) and characters within them (1-based).
    The line starts are found only when a problem needs them (most files have none)."""

    def __init__(self, text: str):
        self.text = text
        self.end = len(text)

    @functools.cached_property
    def starts(self) -> list[int]:
        return [0] + [m.end() for m in _LINE_BREAK.finditer(self.text)]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def start_of(self, line: int) -> int:
        """Where `line` starts; past the last line: the end of the text."""
        return self.starts[line - 1] if line <= len(self.starts) else self.end

    def position(self, offset: int) -> tuple[int, int]:
        line = self.line_of(offset)
        return line, offset - self.starts[line - 1] + 1


class _BadBytes:
    """The undecodable bytes of a file in file order, handed out as the cells holding them are
    read (each cell holds as many as it has surrogates); whatever no cell claimed is reported
    by position at the end."""

    def __init__(self, text: str, lines: _Lines):
        self.found = ([(*lines.position(m.start()), ord(m.group()) - 0xDC00)
                       for m in _BAD_BYTE.finditer(text)] if _BAD_BYTE.search(text) else [])
        self.next = 0

    def __bool__(self) -> bool:
        return bool(self.found)

    def take(self, cell: str) -> list[tuple[int, int, int]]:
        n = len(_BAD_BYTE.findall(cell)) if self.found else 0
        taken = self.found[self.next:self.next + n]
        self.next += n
        return taken

    def rest(self) -> list[tuple[int, int, int]]:
        taken, self.next = self.found[self.next:], len(self.found)
        return taken


def _not_utf8(line: int, char: int, byte: int, more: int = 0) -> str:
    """One problem per value (or line) however many of its bytes are bad: a cut or foreign
    character is often two or three bytes."""
    also = f" (and {more} more byte{'s' if more > 1 else ''} after it)" if more else ""
    return (f"is not UTF-8 text: byte 0x{byte:02X} at character {char} of line {line} cannot be "
            f"decoded{also}; save the file as UTF-8")


def _open_quote(text: str, offset: int, end: int) -> tuple[int, int] | None:
    """Where a quoted value still open at `end` opens, reading a record from `offset`: (its
    offset, the index of its cell in the record), or None if no quote is open there. Quotes open
    a value only as its first character and are escaped by doubling (RFC 4180, csv's default
    dialect)."""
    cell, i, n = 0, offset, end
    at_start = True
    while i < n:
        ch = text[i]
        if at_start and ch == '"':
            opened, i = i, i + 1
            while True:
                j = text.find('"', i, end)
                if j < 0:
                    return opened, cell
                if text.startswith('""', j, end):
                    i = j + 2
                    continue
                i = j + 1
                break
            at_start = False
            continue
        if ch == ",":
            cell, at_start = cell + 1, True
        elif ch in "\r\n":
            cell, at_start = 0, True
        else:
            at_start = False
        i += 1
    return None


def read_table(spec: FileSpec, path: Path, problems: list[Problem]) -> Table:
    """Parse one file. Cells that break a rule are reported and left out of the row. Every
    problem names the physical line it is on: a row's first line (a quoted value may span
    several), the line of an undecodable byte, the line where an unclosed quote opens."""
    table = Table(spec.name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(spec.name, 0, "-", f"cannot be read: {exc.strerror}"))
        return table
    text = raw.decode("utf-8-sig", errors="surrogateescape")
    del raw
    lines = _Lines(text)
    bad = _BadBytes(text, lines)
    header_names: list[str] = []
    try:
        _read_records(spec, text, lines, bad, table, header_names, problems)
    finally:
        by_line: dict[int, list[tuple[int, int, int]]] = {}
        for found in bad.rest():
            by_line.setdefault(found[0], []).append(found)
        for line, taken in by_line.items():
            _, char, byte = taken[0]
            problems.append(Problem(spec.name, line, "-",
                                    _not_utf8(line, char, byte, len(taken) - 1)))
    return table


def _read_records(spec: FileSpec, text: str, lines: _Lines, bad: _BadBytes, table: Table,
                  header: list[str], problems: list[Problem]) -> None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1  # the physical line the next record starts on
    try:
        first = next(reader, None)
        if not first:
            problems.append(Problem(spec.name, 1, "-", "is empty; a header line is required"))
            return
        if bad and any(_BAD_BYTE.search(h) for h in first):
            return  # the header itself cannot be read: its bytes are reported by position
        header.extend(h.strip() for h in first)
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
            return
        index = {name: header.index(name) for name in spec.column_names}
        while True:
            start = reader.line_num + 1
            record = next(reader, None)
            if record is None:
                break
            line = start
            if not any(cell.strip() for cell in record):
                continue  # a blank line, e.g. at the end of the file
            undecodable = ({i: taken for i, cell in enumerate(record) if (taken := bad.take(cell))}
                           if bad else {})
            for i, taken in undecodable.items():
                where = header[i] if i < len(header) else "-"
                at_line, char, byte = taken[0]
                problems.append(Problem(spec.name, at_line, where,
                                        _not_utf8(at_line, char, byte, len(taken) - 1)))
            if len(record) != len(header):
                problems.append(Problem(spec.name, line, "-",
                                        f"has {len(record)} cells, the header has {len(header)}"))
                continue
            row, ok = {}, not undecodable
            for col in spec.columns:
                if index[col.name] in undecodable:
                    continue
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
        problems.append(_csv_problem(spec, text, lines, start, header, reader.line_num, exc))


def _csv_problem(spec: FileSpec, text: str, lines: _Lines, start: int, header: list[str],
                 line_num: int, exc: csv.Error) -> Problem:
    """A record csv cannot parse. csv says where it gave up, which for a quote never closed is
    the end of the file (or wherever the value grew past csv's field limit): name the line where
    that quote opens instead."""
    opened = _open_quote(text, lines.start_of(start), lines.start_of(line_num + 1))
    if opened is None:
        return Problem(spec.name, line_num, "-", f"is not valid CSV: {exc}")
    offset, cell = opened
    line, char = lines.position(offset)
    where = header[cell] if cell < len(header) else "-"
    return Problem(spec.name, line, where,
                   f'is not valid CSV: the quote (") at character {char} of line {line} is '
                   f"never closed ({exc})")


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
