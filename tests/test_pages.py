"""The first pages: the network overview, the facility list and a facility, in zh-CN by default
and in English on request (one language at a time; see test_i18n.py for the switch)."""
import pytest

from tests.factories import tiny_network

EN = {"Accept-Language": "en"}


@pytest.fixture
def net(session):
    r = tiny_network(session)
    session.commit()
    return r


def test_network_page_lists_districts_and_tiers(client, net):
    resp = client.get("/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert '<html lang="zh-CN">' in html
    assert "海拉尔区" in html and "Hailar District" not in html
    assert "乡镇康复站" in html and "旗市区" in html
    assert 'href="/facilities?region=150702"' in html
    assert "演示模式：全部人员与机构数据均为虚构。" in html  # demo data says it is synthetic
    assert "<main" in html and "<nav" in html and "<caption>" in html
    assert 'class="skip" href="#main"' in html and "<footer>" in html
    assert '<span lang="en">' not in html  # no more English beside the Chinese
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_network_page_in_english(client, net):
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Hailar District" in html and "海拉尔区" not in html
    assert "Township rehab station" in html and "Open cases by priority on 2026-11-16" in html
    assert "Demo mode: all people and facility data are synthetic." in html
    assert "演示模式" not in html


def test_facility_list_filters_and_detail(client, net):
    html = client.get("/facilities?tier=station").get_data(as_text=True)
    assert "ST150702001" in html and "CT01" not in html
    assert "共 1 个机构。" in html and "测试街道康复站" in html
    html = client.get("/facilities?tier=station", headers=EN).get_data(as_text=True)
    assert "1 facility." in html and "Ceshi Street Station" in html
    html = client.get("/facilities/CT01").get_data(as_text=True)
    assert "孤独症康复训练" in html and "2026-01-01" in html
    assert "2026-11-16 有效的服务能力" in html and "北纬 49.2100°，东经 119.7700°" in html
    html = client.get("/facilities/CT01", headers=EN).get_data(as_text=True)
    assert "Autism training" in html and "Capacities in force on 2026-11-16" in html
    assert "孤独症康复训练" not in html


def test_regions_are_in_the_nav(client, net):
    html = client.get("/regions").get_data(as_text=True)
    assert '<a href="/regions" aria-current="page">地区</a>' in html


def test_missing_page_is_a_page_not_json(client, net):
    resp = client.get("/facilities/NOPE")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "NOPE" in html and "404 未找到" in html
    html = client.get("/facilities/NOPE", headers=EN).get_data(as_text=True)
    assert "404 Not found" in html


def test_pages_load_nothing_from_the_internet(client, net):
    for url in ("/", "/facilities", "/facilities/CT01", "/regions", "/plans"):
        html = client.get(url).get_data(as_text=True)
        assert "http://" not in html and "https://" not in html
