"""The first pages: the network overview, the facility list and a facility, in zh-CN first."""
import pytest

from tests.factories import tiny_network


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
    assert "海拉尔区" in html and "Hailar District" in html
    assert 'href="/facilities?region=150702"' in html
    assert "演示模式" in html  # demo data says it is synthetic
    assert "<main" in html and "<nav" in html and "<caption>" in html
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_facility_list_filters_and_detail(client, net):
    html = client.get("/facilities?tier=station").get_data(as_text=True)
    assert "ST150702001" in html and "CT01" not in html
    html = client.get("/facilities/CT01").get_data(as_text=True)
    assert "孤独症康复训练" in html and "2026-01-01" in html


def test_missing_page_is_a_page_not_json(client, net):
    resp = client.get("/facilities/NOPE")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert "NOPE" in resp.get_data(as_text=True)


def test_pages_load_nothing_from_the_internet(client, net):
    for url in ("/", "/facilities", "/facilities/CT01"):
        html = client.get(url).get_data(as_text=True)
        assert "http://" not in html and "https://" not in html
