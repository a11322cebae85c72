"""Languages: zh-CN by default, English by Accept-Language or by the switch; the catalogue is
complete and actually found (Babel parses zh_CN as zh_Hans_CN, so the directory name matters)."""
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from rehab_net import i18n
from rehab_net.vocab import LABELS, LABELS_ZH, label
from tests.factories import tiny_network

ROOT = Path(__file__).resolve().parent.parent
ZH_PO = ROOT / "rehab_net/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
VENV_BIN = ROOT / ".venv/bin"
PYBABEL = str(VENV_BIN / "pybabel") if (VENV_BIN / "pybabel").exists() else "pybabel"
# The interpreter running the tests has Babel; the script uses it and this pybabel.
TOOLS_ENV = dict(os.environ, PYBABEL=PYBABEL, PYTHON=sys.executable)


@pytest.fixture
def net(session):
    r = tiny_network(session)
    session.commit()
    return r


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _switch(client, lang: str, next_: str | None = "/facilities?tier=station"):
    token = _csrf(client.get("/").get_data(as_text=True))
    data = {"csrf_token": token, "lang": lang}
    if next_ is not None:
        data["next"] = next_
    return client.post("/language", data=data)


def test_default_is_chinese_and_translated(client, net):
    resp = client.get("/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert '<html lang="zh-CN">' in html
    # Translated from the English msgids: the zh catalogue was found and used.
    assert "康复服务网络概况" in html and "The rehabilitation network" not in html
    assert "跳到正文" in html and "Skip to content" not in html
    assert "康复中心/定点机构" in html  # a vocabulary label through label()
    assert "海拉尔区" in html and "Hailar District" not in html  # names in one language
    assert "Accept-Language" in resp.headers.get("Vary", "")


def test_accept_language_english(client, net):
    resp = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    html = resp.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "The rehabilitation network" in html and "康复服务网络概况" not in html
    assert "Rehab centre / designated institution" in html
    assert "Hailar District" in html and "海拉尔区" not in html
    assert "Demo mode: all people and facility data are synthetic." in html


@pytest.mark.parametrize("header, lang", [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"), ("en;q=0.9, zh;q=0.8", "en"), ("zh-TW", "zh-CN"),
    ("fr-FR", "zh-CN"), ("de, en;q=0.5", "en"),
])
def test_accept_language_best_match(client, header, lang):
    html = client.get("/facilities", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}">' in html


def test_switch_stores_the_choice_and_goes_back(client, net):
    resp = _switch(client, "en")
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/facilities?tier=station"
    with client.session_transaction() as s:
        assert s["lang"] == "en"
    # The session beats the browser's header, and nothing about it is in the URL.
    html = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Network" in html
    assert _switch(client, "zh").status_code == 303
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "网络概况" in html


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "evil.example", "", None,
    "javascript:alert(1)", "/\r\nSet-Cookie: x=1",
])
def test_switch_refuses_other_places(client, net, target):
    resp = _switch(client, "en", target)
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/"


def test_switch_keeps_a_local_path_with_its_query(client, net):
    resp = _switch(client, "zh", "/regions?x=1&y=%E4%B8%AD")
    assert resp.headers["Location"] == "/regions?x=1&y=%E4%B8%AD"


def test_switch_needs_a_known_language(client, net):
    refused = _switch(client, "fr")
    assert refused.status_code == 400
    assert "请选择“中文”或 English。" in refused.get_data(as_text=True)  # said, not a generic 400
    with client.session_transaction() as s:
        assert "lang" not in s


def test_switch_form_on_every_page(client, net):
    html = client.get("/facilities?tier=station").get_data(as_text=True)
    assert '<form class="language" method="post" action="/language"' in html
    assert 'name="csrf_token"' in html
    assert '<input type="hidden" name="next" value="/facilities?tier=station">' in html
    assert 'lang="en">English</button>' in html and 'lang="zh-CN"' in html
    html = client.get("/regions").get_data(as_text=True)
    assert '<input type="hidden" name="next" value="/regions">' in html  # no trailing "?"


def test_flashes_are_announced(app):
    from flask import flash, render_template_string

    with app.test_request_context("/"):
        flash("saved")
        flash("went wrong", "error")
        html = render_template_string('{% extends "base.html" %}')
    assert '<div class="flashes" role="status" aria-live="polite">' in html
    assert '<p class="flash flash-message">saved</p>' in html
    assert '<p class="flash flash-error" role="alert">went wrong</p>' in html
    assert html.index("flash-error") > html.index('<main id="main"')


def test_regions_tree(client, net):
    html = client.get("/regions").get_data(as_text=True)
    assert "<details open>" in html and "<summary>" in html  # the city opens at once
    assert "呼伦贝尔市" in html and "海拉尔区" in html and "测试社区2" in html
    assert "Hulunbuir" not in html
    assert 'href="/facilities?region=150702"' in html
    assert 'href="/facilities?region=150702001002"' in html
    # City 2 open facilities, the district 2, the township 1 (its station), a village none.
    counts = re.findall(r'<span class="count">([^<]+)</span>', html)
    assert counts == ["2 个开放机构", "2 个开放机构", "1 个开放机构", "0 个开放机构",
                      "0 个开放机构"]
    html = client.get("/regions", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Hulunbuir" in html and "2 open facilities" in html and "1 open facility<" in html
    assert "Facilities in Hailar District" in html


def test_regions_tree_counts_only_open_facilities(client, net, session):
    from rehab_net.network import operations as network

    network.update_facility(session, net["station"], {"status": "closed"})
    session.commit()
    html = client.get("/regions").get_data(as_text=True)
    counts = re.findall(r'<span class="count">([^<]+)</span>', html)
    assert counts[:3] == ["1 个开放机构", "1 个开放机构", "0 个开放机构"]


def test_regions_page_without_data(client):
    html = client.get("/regions").get_data(as_text=True)
    assert "rehab-net load-sample" in html


def test_local_datetime_and_date(app):
    late = datetime(2026, 11, 23, 12, 15, tzinfo=UTC)
    with app.test_request_context("/"):
        assert i18n.local_datetime(late) == "2026-11-23 20:15"
        assert i18n.local_datetime(None) == "—"
        assert i18n.local_date(datetime(2026, 11, 23, 17, 0, tzinfo=UTC)) == "2026-11-24"
        assert i18n.local_date(date(2026, 1, 1)) == "2026-01-01"
        env = app.jinja_env
        assert env.from_string("{{ t|local_datetime }}").render(t=late) == "2026-11-23 20:15"


def test_labels_follow_the_language(app):
    with app.test_request_context("/"):
        assert label("centre") == "康复中心/定点机构"
        with force_locale("en"):
            assert label("centre") == "Rehab centre / designated institution"
        assert label("no-such-value") == "no-such-value"
    # The zh labels agree with the old LABELS_ZH table everywhere it has the value.
    with app.test_request_context("/"):
        for value, zh in LABELS_ZH.items():
            assert label(value) == zh, value
        assert set(LABELS_ZH) <= set(LABELS)


def test_zh_catalogue_is_complete():
    result = subprocess.run(["bash", str(ROOT / "tools/translations.sh"), "check"], cwd=ROOT,
                            env=TOOLS_ENV, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(ZH_PO, "rb") as f:
        catalog = read_po(f)
    assert len([m for m in catalog if m.id]) > 100


def test_check_fails_on_an_empty_fuzzy_or_missing_entry(tmp_path):
    """The check lists what is not translated: run it on a copy of the tree with an empty and a
    fuzzy entry, and a template message that never reached the catalogue."""
    copy = tmp_path / "proj"
    shutil.copytree(ROOT / "rehab_net", copy / "rehab_net",
                    ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    for name in ("babel.cfg", "tools/translations.sh"):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, copy / name)
    po = copy / "rehab_net/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
    text = po.read_text(encoding="utf-8")
    text = text.replace('msgstr "跳到正文"', 'msgstr ""')
    text = text.replace('msgid "Regions"', '#, fuzzy\nmsgid "Regions"')
    po.write_text(text, encoding="utf-8")
    (copy / "rehab_net/templates/new.html").write_text('{{ _("A brand-new message") }}')
    result = subprocess.run(["bash", "tools/translations.sh", "check"], cwd=copy, env=TOOLS_ENV,
                            capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "empty: 'Skip to content'" in result.stdout
    assert "fuzzy: 'Regions'" in result.stdout
    assert "missing (run: bash tools/translations.sh update): 'A brand-new message'" \
        in result.stdout


def test_mo_files_are_current(tmp_path):
    """The committed .mo files are what `tools/translations.sh compile` makes of the .po files
    (byte for byte: compiling is deterministic)."""
    for lang in ("zh_Hans_CN", "en"):
        base = ROOT / "rehab_net/translations" / lang / "LC_MESSAGES"
        out = tmp_path / f"{lang}.mo"
        subprocess.run([PYBABEL, "-q", "compile", "-l", lang,
                        "-i", str(base / "messages.po"), "-o", str(out)], check=True)
        assert out.read_bytes() == (base / "messages.mo").read_bytes(), \
            f"{lang}: run bash tools/translations.sh compile"
