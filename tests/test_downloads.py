"""Every download names its file through downloads.attachment: a Chinese name survives as UTF-8,
and nothing a user typed into a stored file name can break out of the header."""
from __future__ import annotations

from urllib.parse import unquote

from werkzeug.http import parse_options_header

from rehab_net.downloads import attachment, safe_filename


def test_an_ascii_name_is_sent_as_it_is():
    assert attachment("audit-log.csv") == {
        "Content-Disposition": 'attachment; filename="audit-log.csv"'}


def test_a_chinese_name_has_an_ascii_fallback_and_its_utf8_form():
    header = attachment("2026年第3季度报表.xlsx")["Content-Disposition"]
    kind, options = parse_options_header(header)
    assert kind == "attachment"
    assert options["filename"] == "2026年第3季度报表.xlsx"  # werkzeug prefers filename*
    assert 'filename="20263.xlsx"' in header
    assert unquote(header.split("filename*=UTF-8''")[1]) == "2026年第3季度报表.xlsx"


def test_quotes_and_control_characters_cannot_leave_the_header():
    header = attachment('evil"; filename="x.exe\r\nSet-Cookie: a=b')["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    _, options = parse_options_header(header)
    assert options["filename"] == 'evil"; filename="x.exeSet-Cookie: a=b'
    assert header.count('"') == 2  # the fallback's own pair only


def test_an_empty_name_falls_back():
    assert safe_filename("\x00\x07 ", "attachment-7") == "attachment-7"
    assert attachment("")["Content-Disposition"] == 'attachment; filename="download"'
