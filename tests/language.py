"""The language crawl's rule (tests/test_language_crawl.py), shared with the tests of pages
whose states the crawl's world does not reach: the text a user reads on a page, and the runs of
English words on a Chinese page (or of Chinese on an English one) that are not codes, allowed
words or user data."""
from __future__ import annotations

import re
from html.parser import HTMLParser

# Words that are the same in both languages: product and standard names, units, codes' words.
ALLOWED = {
    "rehab-net", "FHIR", "CSV", "XLSX", "iCal", "iCalendar", "API", "OpenAPI", "JSON", "ID",
    "WCAG", "Asia/Shanghai", "UTC", "km", "SMS", "PDF", "HL7", "R4", "GB/T", "ISO", "MOD",
    "YYYY-MM-DD", "HH:MM", "Bearer", "rn_", "PostgreSQL", "SQLite", "OR-Tools", "CLI",
    "English",  # the language switch names the other language in itself
    "Authorization",  # the HTTP header an API token goes in (the account page's token help)
}
# Paths, commands' options and snake_case codes are not words (/api/v1/..., --wait,
# autism_training).
NOT_WORDS = re.compile(r"(?:\S*/\S+|(?<![\w-])--?\w[\w-]*|\w+_\w+)")


class _Text(HTMLParser):
    """The text a user reads or hears: text nodes outside script/style, and the attributes read
    aloud or shown (aria-label, title, placeholder, alt, the value of buttons)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        a = dict(attrs)
        for key in ("aria-label", "title", "placeholder", "alt"):
            if a.get(key):
                self.parts.append(a[key])
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(a["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


def _is_code(word: str) -> bool:
    """Codes and identifiers: with a digit, or all capitals (CT01, R000001, KIN, P1)."""
    return bool(re.search(r"\d", word)) or (word.isupper() and len(word) <= 8) or \
        bool(re.fullmatch(r"[A-Z]+(-[A-Z]+)+", word))  # a format: 0NNN-NNNNNNN


def english_runs(text: str, data: set[str]) -> list[str]:
    """Runs of Latin words that are not codes, allowed words or user data."""
    runs = []
    text = NOT_WORDS.sub(" ", text)
    for run in re.findall(r"[A-Za-z][A-Za-z'’\-/_.]*(?:[ ,:;()]+[A-Za-z][A-Za-z'’\-/_.]*)*",
                          text):
        words = [w.strip(".,:;()") for w in re.split(r"[ ,:;()]+", run)]
        words = [w for w in words if w and w not in ALLOWED and w not in data
                 and not _is_code(w) and len(w) > 1]
        if words:
            runs.append(" ".join(words))
    return runs


def chinese_runs(text: str, data: set[str]) -> list[str]:
    return [r for r in re.findall(r"[\u3400-\u9fff]+", text) if not any(r in d for d in data)]
