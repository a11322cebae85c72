"""Map labels do not overlap (issue 15): place_label moves a crowded label out ring by ring (with
a leader line) and leaves it out rather than draw it over another; the maps use it."""
from __future__ import annotations

import random
import re
from itertools import combinations

from rehab_net.planning import svg


def _intersect(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _dense_sample(n: int = 60, seed: int = 7) -> list[tuple[str, float, float]]:
    """n labels around a few points a few pixels apart: a city with its districts' seats."""
    rnd = random.Random(seed)
    centres = [(200, 150), (215, 160), (380, 300)]
    out = []
    for i in range(n):
        cx, cy = centres[i % len(centres)]
        out.append((f"阿荣旗 {i}" if i % 2 else f"CT{i:02d}", cx + rnd.uniform(-12, 12),
                    cy + rnd.uniform(-12, 12)))
    return out


def test_label_boxes_of_a_dense_sample_do_not_intersect_and_stay_on_the_map():
    bounds = (0, 0, 560, 420)
    placed: list = []
    places = [svg.place_label(text, x, y, 5, placed, bounds=bounds)
              for text, x, y in _dense_sample()]
    boxes = [p.box for p in places if p is not None]
    assert len(boxes) >= 45, f"only {len(boxes)} of 60 labels found a place"
    for a, b in combinations(boxes, 2):
        assert not _intersect(a, b), (a, b)
    for box in boxes:
        assert bounds[0] <= box[0] and box[2] <= bounds[2]
        assert bounds[1] <= box[1] and box[3] <= bounds[3]
    assert any(p.leader for p in places if p is not None), "no label needed a leader line"


def test_a_label_with_room_stays_next_to_its_mark():
    placed: list = []
    first = svg.place_label("CT01", 100, 100, 5, placed)
    assert not first.leader and first.box[3] <= 100 - 5  # above the mark
    second = svg.place_label("CT02", 100, 100, 5, placed)
    assert not second.leader and second.box[1] >= 100 + 5  # the next side: below


def _text_boxes(markup: str) -> list[tuple[float, float, float, float]]:
    """The boxes of the labels drawn with a halo (the map's labels), from their x, y and text."""
    boxes = []
    for x, y, size, text in re.findall(r'<text x="([\d.-]+)" y="([\d.-]+)" text-anchor="start" '
                                       r'font-size="([\d.]+)"[^>]*paint-order="stroke">([^<]*)<',
                                       markup):
        x, y, size = float(x), float(y), float(size)
        w = svg._text_width(text, size)
        boxes.append((x, y - size, x + w, y + 2))
    return boxes


def test_the_ranking_map_draws_no_label_over_another():
    sample = _dense_sample(40)
    projection = svg.Projection(119.0, 121.0, 48.0, 50.0, 560)
    candidates = [{"rank": i + 1, "code": f"F{i:02d}", "tier": "station", "lat": 49.0 + dy / 500,
                   "lon": 120.0 + dx / 500, "gain": 40 - i, "new": i % 3 == 0, "label": text}
                  for i, (text, dx, dy) in enumerate(sample)]
    markup = svg.ranking_map(map_id="m", title="t", desc="d", projection=projection,
                             candidates=candidates)
    boxes = _text_boxes(markup)
    assert len(boxes) >= 30
    for a, b in combinations(boxes, 2):
        assert not _intersect(a, b), (a, b)
    assert "<line" in markup  # leader lines for the labels moved away


def test_the_region_map_draws_no_label_over_another():
    projection = svg.Projection(119.0, 121.0, 48.0, 50.0, 560)
    districts = [{"code": f"D{i}", "lat": 49.0 + dy / 500, "lon": 120.0 + dx / 500,
                  "unplaced": 50 - i, "label": text, "short": text}
                 for i, (text, dx, dy) in enumerate(_dense_sample(30))]
    markup = svg.region_map(map_id="m", title="t", desc="d", projection=projection,
                            facilities=[], districts=districts, most_unplaced=50, most_used=0)
    boxes = _text_boxes(markup)
    assert len(boxes) >= 20
    for a, b in combinations(boxes, 2):
        assert not _intersect(a, b), (a, b)
