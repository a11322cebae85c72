"""The comparison page's pictures as inline SVG the app draws itself: grouped bar charts, waiting
and travel ranges, and the map of the region (no tiles, nothing from the internet).

Pure functions: data in, an SVG string (markupsafe.Markup) out. Every picture is an
``<svg role="img">`` named by its ``<title>`` and ``<desc>`` (aria-labelledby); the page puts a
table with the same numbers beside it. Colours come from presentation attributes (the CSP allows
no style attributes), and nothing is told by colour alone: bars carry their value and the plan's
number as text, marks have a shape per tier and the legend says what the shades mean.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# One colour per compared plan (the baseline first); all at least 4.5:1 on white.
SERIES_COLOURS = ("#0b5394", "#b35c00", "#1e6b34", "#6a3d9a", "#a4262c", "#00727a", "#7a5c00",
                  "#595959")
INK, MUTED, GRID = "#1a1a1a", "#595959", "#d9d9d9"
# Facility load (intakes used / offered) in five classes, light to dark; the legend names them.
LOAD_CLASSES = (  # (upper bound of the share, fill, stroke)
    (0.0, "#ffffff", "#595959"),
    (0.5, "#c6dbef", "#4a6f94"),
    (0.9, "#6baed6", "#2b5d8a"),
    (0.9999, "#2171b5", "#0b3a66"),
    (math.inf, "#08306b", "#000000"),
)
UNMET_FILL, UNMET_STROKE = "#f4a582", "#a63603"
NEW_STROKE, CLOSED_STROKE = "#1a1a1a", "#a4262c"
KM_PER_DEGREE = 111.32


def series_colour(i: int) -> str:
    return SERIES_COLOURS[i % len(SERIES_COLOURS)]


def load_class(share: float | None) -> int:
    """The index in LOAD_CLASSES of a share used / offered (None: nothing offered -> 0)."""
    if share is None or share <= 0:
        return 0
    for i, (upper, _fill, _stroke) in enumerate(LOAD_CLASSES):
        if i and share <= upper:
            return i
    return len(LOAD_CLASSES) - 1


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _open(chart_id: str, title: str, desc: str, width: float, height: float,
          css_class: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" role="img" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" '
            f'height="{_num(height)}" font-size="12">',
            f'<title id="{chart_id}-title">{escape(title)}</title>',
            f'<desc id="{chart_id}-desc">{escape(desc)}</desc>']


def _nice_max(value: float) -> float:
    """A round axis maximum at or above value (1, 2, 2.5, 5 x 10^k)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _value_axis(x0: float, bar_width: float, top: float, axis_y: float, text_y: float,
                top_value: float, fmt: Callable[[float], str]) -> list[str]:
    """The value axis of a horizontal chart: gridlines at quarters of the rounded maximum, from
    ``top`` down to ``axis_y``, each with its value at ``text_y``."""
    out = []
    for k in range(5):
        x = x0 + bar_width * k / 4
        out.append(f'<line x1="{_num(x)}" y1="{top - 4}" x2="{_num(x)}" y2="{_num(axis_y)}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{_num(x)}" y="{_num(text_y)}" text-anchor="middle" '
                   f'fill="{MUTED}">{escape(fmt(top_value * k / 4))}</text>')
    return out


# --- grouped bars -------------------------------------------------------------------------------
def bar_chart(*, chart_id: str, title: str, desc: str,
              groups: Sequence[tuple[str, Sequence[float | None]]], series: Sequence[str],
              fmt: Callable[[float], str] = _num, label_width: int = 170,
              bar_width: int = 250, value_room: int = 70) -> Markup:
    """Horizontal bars, one group per row label (a district), one bar per series (a plan) in the
    series' colour, each followed by its series label and value as text ("#3: 12") in the
    ``value_room`` pixels right of the longest bar."""
    bar_h, gap, group_gap, top = 11, 1, 7, 8
    n = max(1, len(series))
    top_value = _nice_max(max((v for _label, values in groups for v in values if v is not None),
                              default=0))
    group_h = n * (bar_h + gap) - gap
    height = top + len(groups) * (group_h + group_gap) + 22
    width = label_width + bar_width + value_room
    out = _open(chart_id, title, desc, width, height, "chart chart-bars")
    x0 = label_width
    axis_y = height - 18
    out += _value_axis(x0, bar_width, top, axis_y, axis_y + 13, top_value, fmt)
    y = top
    for label, values in groups:
        out.append(f'<text x="{x0 - 8}" y="{_num(y + group_h / 2 + 4)}" text-anchor="end" '
                   f'fill="{INK}">{escape(label)}</text>')
        for i, value in enumerate(values):
            by = y + i * (bar_h + gap)
            w = 0 if value is None else bar_width * value / top_value
            if w > 0:
                out.append(f'<rect x="{x0}" y="{_num(by)}" width="{_num(max(w, 1))}" '
                           f'height="{bar_h}" fill="{series_colour(i)}"/>')
            text = "—" if value is None else fmt(value)
            out.append(f'<text x="{_num(x0 + w + 4)}" y="{_num(by + bar_h - 1.5)}" font-size="10" '
                       f'fill="{INK}">{escape(series[i] if i < len(series) else "")}: '
                       f'{escape(text)}</text>')
        y += group_h + group_gap
    out.append(f'<line x1="{x0}" y1="{top - 4}" x2="{x0}" y2="{_num(axis_y)}" stroke="{INK}" '
               'stroke-width="1"/>')
    out.append("</svg>")
    return Markup("\n".join(out))


# --- ranges (median and 90th percentile) --------------------------------------------------------
def range_chart(*, chart_id: str, title: str, desc: str,
                rows: Sequence[tuple[str, float | None, float | None]],
                fmt: Callable[[float], str] = _num, label_width: int = 180,
                bar_width: int = 220, median_word: str = "median", p90_word: str = "p90",
                ) -> Markup:
    """One row per plan: a band from 0 to the 90th percentile, a thick tick at the median, and
    both numbers as text. A box-like view of a distribution from the two figures kept."""
    row_h, top = 24, 8
    top_value = _nice_max(max((v for _label, m, p in rows for v in (m, p) if v is not None),
                              default=0))
    height = top + len(rows) * row_h + 24

    def words(median, p90) -> str:
        return (f"{median_word} {'—' if median is None else fmt(median)} · "
                f"{p90_word} {'—' if p90 is None else fmt(p90)}")

    width = label_width + bar_width + 16 + max(
        (_text_width(words(m, q), 12) for _label, m, q in rows), default=100)
    out = _open(chart_id, title, desc, width, height, "chart chart-ranges")
    x0 = label_width
    axis_y = height - 20
    out += _value_axis(x0, bar_width, top, axis_y, axis_y + 14, top_value, fmt)
    for i, (label, median, p90) in enumerate(rows):
        y = top + i * row_h
        mid = y + row_h / 2
        out.append(f'<text x="{x0 - 8}" y="{_num(mid + 4)}" text-anchor="end" fill="{INK}">'
                   f'{escape(label)}</text>')
        colour = series_colour(i)
        if p90 is not None:
            w = bar_width * p90 / top_value
            out.append(f'<rect x="{x0}" y="{_num(mid - 6)}" width="{_num(max(w, 1))}" '
                       f'height="12" fill="{colour}" fill-opacity="0.25" stroke="{colour}"/>')
        if median is not None:
            mx = x0 + bar_width * median / top_value
            out.append(f'<rect x="{_num(mx - 2)}" y="{_num(mid - 9)}" width="4" height="18" '
                       f'fill="{colour}"/>')
        text = words(median, p90)
        out.append(f'<text x="{x0 + bar_width + 8}" y="{_num(mid + 4)}" fill="{INK}">'
                   f'{escape(text)}</text>')
    out.append(f'<line x1="{x0}" y1="{top - 4}" x2="{x0}" y2="{_num(axis_y)}" stroke="{INK}" '
               'stroke-width="1"/>')
    out.append("</svg>")
    return Markup("\n".join(out))


# --- the map ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Projection:
    """Equirectangular, fitted to a bounding box: x = (lon - west) * cos(middle latitude),
    y = north - lat, scaled to ``width`` pixels inside a margin."""

    west: float
    east: float
    south: float
    north: float
    width: float
    margin: float = 24.0

    @property
    def _kx(self) -> float:
        return math.cos(math.radians((self.south + self.north) / 2))

    @property
    def scale(self) -> float:
        """Pixels per degree of latitude."""
        span = max((self.east - self.west) * self._kx, 1e-6)
        return (self.width - 2 * self.margin) / span

    @property
    def height(self) -> float:
        return (self.north - self.south) * self.scale + 2 * self.margin

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (self.margin + (lon - self.west) * self._kx * self.scale,
                self.margin + (self.north - lat) * self.scale)

    @property
    def px_per_km(self) -> float:
        return self.scale / KM_PER_DEGREE


def fit(points: Iterable[tuple[float, float]], width: float = 560,
        pad_degrees: float = 0.15) -> Projection:
    """The projection of the bounding box of (lat, lon) points (a little padded)."""
    pts = list(points)
    if not pts:
        return Projection(115.0, 126.0, 47.0, 53.0, width)  # Hulunbuir, for an empty map
    lats = [p[0] for p in pts]
    lons = [p[1] for p in pts]
    south, north = min(lats) - pad_degrees, max(lats) + pad_degrees
    west, east = min(lons) - pad_degrees, max(lons) + pad_degrees
    if north - south < 0.5:  # one town: show its surroundings
        mid = (north + south) / 2
        south, north = mid - 0.25, mid + 0.25
    if east - west < 0.5:
        mid = (east + west) / 2
        west, east = mid - 0.25, mid + 0.25
    return Projection(west, east, south, north, width)


_TIER_ORDER = {"clinic": 0, "station": 1, "centre": 2}


def _mark(tier: str, x: float, y: float, size: float, fill: str, stroke: str,
          stroke_width: float = 1.0) -> str:
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="{_num(stroke_width)}"'
    if tier == "centre":  # a square
        return (f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size:.1f}" '
                f'height="{2 * size:.1f}" {common}/>')
    if tier == "station":  # a triangle
        h = size * 1.15
        return (f'<polygon points="{x:.1f},{y - h:.1f} {x + h:.1f},{y + h * 0.75:.1f} '
                f'{x - h:.1f},{y + h * 0.75:.1f}" {common}/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" {common}/>'


def legend_mark(tier: str, share: float | None = 0.95, *, new: bool = False,
                closed: bool = False) -> Markup:
    """A small standalone SVG of one map mark, for the legend beside the map (aria-hidden: the
    legend's text says what it is)."""
    size = {"centre": 5.0, "station": 5.0}.get(tier, 3.5)
    if closed:
        body = _cross(9, 9, 5)
    else:
        _upper, fill, stroke = LOAD_CLASSES[load_class(share)]
        body = _mark(tier, 9, 9, size, fill, NEW_STROKE if new else stroke, 2.5 if new else 1)
    return Markup('<svg xmlns="http://www.w3.org/2000/svg" class="legend-mark" width="18" '
                  f'height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false">'
                  f'{body}</svg>')


def legend_circle(radius: float = 7) -> Markup:
    return Markup('<svg xmlns="http://www.w3.org/2000/svg" class="legend-mark" width="18" '
                  'height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false">'
                  f'<circle cx="9" cy="9" r="{_num(radius)}" fill="{UNMET_FILL}" '
                  f'fill-opacity="0.6" stroke="{UNMET_STROKE}"/></svg>')


def _cross(x: float, y: float, s: float) -> str:
    return (f'<path d="M{x - s:.1f},{y - s:.1f} L{x + s:.1f},{y + s:.1f} M{x - s:.1f},'
            f'{y + s:.1f} L{x + s:.1f},{y - s:.1f}" stroke="{CLOSED_STROKE}" stroke-width="2.5" '
            'fill="none"/>')


def unmet_radius(unplaced: int, most: int, largest: float = 30.0) -> float:
    """Circle radius with the area proportional to the unplaced cases (0 -> no circle)."""
    if unplaced <= 0 or most <= 0:
        return 0.0
    return max(3.0, largest * math.sqrt(unplaced / most))


def _text_width(text: str, size: float) -> float:
    """About how wide a label is: CJK characters are square, others about half as wide."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.58 for ch in text)


Box = tuple[float, float, float, float]  # left, top, right, bottom
# Where a label may go around its mark, tried in this order: above, below, right, left, then the
# four diagonals; (dx, dy) is the direction from the mark.
_DIRECTIONS = ((0, -1), (0, 1), (1, 0), (-1, 0), (1, -1), (1, 1), (-1, -1), (-1, 1))
LABEL_RINGS = 6  # how far out (in label heights) a crowded label is moved, with a leader line


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@dataclass(frozen=True)
class LabelPlace:
    """Where place_label put a label: its text anchor point and anchor, its box, and whether it
    stands away from its mark (then a leader line joins them)."""

    x: float
    y: float
    anchor: str
    box: Box
    leader: bool


def place_label(text: str, x: float, y: float, r: float, placed: list[Box], *,
                size: float = 11, bounds: Box | None = None) -> LabelPlace | None:
    """A place for a label by a mark of radius r at (x, y) whose box overlaps no box in
    ``placed`` and lies inside ``bounds``: next to the mark if one of the eight sides is free,
    else further out ring by ring (the caller draws a leader line). The box is added to
    ``placed``. None when no place is free within LABEL_RINGS rings: the label is left out (the
    mark keeps its tooltip and the table beside the map has every figure) rather than drawn over
    another."""
    w, h = _text_width(text, size), size + 2
    for ring in range(LABEL_RINGS + 1):
        gap = r + 3 + ring * h
        for dx, dy in _DIRECTIONS:
            cx, cy = x + dx * gap, y + dy * gap  # the label's side nearest the mark
            left = cx - w / 2 if dx == 0 else (cx if dx > 0 else cx - w)
            top = cy - h / 2 if dy == 0 else (cy if dy > 0 else cy - h)
            box = (left, top, left + w, top + h)
            if bounds is not None and not (bounds[0] <= box[0] and box[2] <= bounds[2]
                                           and bounds[1] <= box[1] and box[3] <= bounds[3]):
                continue
            if any(_overlaps(box, b) for b in placed):
                continue
            placed.append(box)
            return LabelPlace(left, top + size, "start", box, ring > 0)
    return None


def _label(text: str, x: float, y: float, r: float, placed: list[Box], *, size: float = 11,
           bold: bool = False, bounds: Box | None = None) -> str:
    """A label by a mark (place_label), with a white halo, and a leader line to the mark when
    it had to move away; "" when there is no room for it."""
    where = place_label(text, x, y, r, placed, size=size, bounds=bounds)
    if where is None:
        return ""
    out = ""
    if where.leader:  # from the mark's edge to the nearest point of the label's box
        bx = min(max(x, where.box[0]), where.box[2])
        by = min(max(y, where.box[1]), where.box[3])
        dist = math.hypot(bx - x, by - y) or 1
        out = (f'<line x1="{x + (bx - x) * r / dist:.1f}" y1="{y + (by - y) * r / dist:.1f}" '
               f'x2="{bx:.1f}" y2="{by:.1f}" stroke="{MUTED}" stroke-width="0.75"/>')
    weight = ' font-weight="bold"' if bold else ""
    return out + (f'<text x="{where.x:.1f}" y="{where.y:.1f}" text-anchor="{where.anchor}" '
                  f'font-size="{_num(size)}"{weight} fill="{INK}" stroke="#ffffff" '
                  f'stroke-width="3" paint-order="stroke">{escape(text)}</text>')


def _graticule(p: Projection, out: list[str]) -> None:
    """The map's background and a faint graticule of whole degrees."""
    width, height = p.width, p.height
    out.append(f'<rect x="0" y="0" width="{_num(width)}" height="{_num(height)}" fill="#f7f9fb" '
               f'stroke="{GRID}"/>')
    for lon in range(math.ceil(p.west), math.floor(p.east) + 1):
        x, _ = p.xy(p.north, lon)
        out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{_num(height)}" stroke="{GRID}" '
                   'stroke-width="0.75"/>')
        if lon % 2 == 0:
            out.append(f'<text x="{x + 2:.1f}" y="{_num(height - 6)}" font-size="10" '
                       f'fill="{MUTED}">{lon}°E</text>')
    for lat in range(math.ceil(p.south), math.floor(p.north) + 1):
        _, y = p.xy(lat, p.west)
        out.append(f'<line x1="0" y1="{y:.1f}" x2="{_num(width)}" y2="{y:.1f}" stroke="{GRID}" '
                   'stroke-width="0.75"/>')
        out.append(f'<text x="4" y="{y - 2:.1f}" font-size="10" fill="{MUTED}">{lat}°N</text>')


def _scale_and_north(p: Projection, out: list[str], north_label: str, km_label: str) -> None:
    """A 100 km scale bar at the bottom right and the north arrow at the top right (the label
    placers keep clear of both: _map_furniture)."""
    width, height = p.width, p.height
    bar = 100 * p.px_per_km
    sx, sy = width - bar - 16, height - 16
    out.append(f'<path d="M{sx:.1f},{sy - 5:.1f} V{sy:.1f} H{sx + bar:.1f} V{sy - 5:.1f}" '
               f'stroke="{INK}" stroke-width="1.5" fill="none"/>')
    out.append(f'<text x="{sx + bar / 2:.1f}" y="{sy - 4:.1f}" text-anchor="middle" '
               f'font-size="10" fill="{INK}">100 {escape(km_label)}</text>')
    out.append(f'<text x="{_num(width - 14)}" y="18" text-anchor="middle" font-weight="bold" '
               f'fill="{INK}">{escape(north_label)}↑</text>')


def _map_furniture(p: Projection) -> list[Box]:
    """The boxes of the north arrow and the scale bar, which no label may cover."""
    return [(p.width - 28, 0, p.width, 24),
            (p.width - 100 * p.px_per_km - 20, p.height - 34, p.width, p.height)]


def region_map(*, map_id: str, title: str, desc: str, projection: Projection,
               facilities: Sequence[dict], districts: Sequence[dict], most_unplaced: int,
               most_used: int, north_label: str = "N", km_label: str = "km") -> Markup:
    """The region: districts as circles sized by unmet demand (area ~ unplaced cases, labelled
    with the district's name and number), facilities as marks (square: centre, triangle:
    station, dot: clinic) shaded by load (used / offered) and sized by intakes used; facilities
    a scenario opens are outlined in black, those it closes crossed out. A faint graticule of
    whole degrees and a 100 km scale bar give the geography.

    facilities: {code, tier, lat, lon, used, offered, share, new, closed, label};
    districts: {code, lat, lon, unplaced, label}. ``most_unplaced`` / ``most_used`` fix the
    scales, so maps drawn side by side share them (as they share ``projection``)."""
    p = projection
    width, height = p.width, p.height
    out = _open(map_id, title, desc, width, height, "map")
    _graticule(p, out)
    # unmet demand by district: the largest circles first, so the small stay visible
    circles = []
    for d in sorted(districts, key=lambda d: -d["unplaced"]):
        r = unmet_radius(d["unplaced"], most_unplaced)
        x, y = p.xy(d["lat"], d["lon"])
        if r:
            circles.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{UNMET_FILL}" '
                           f'fill-opacity="0.55" stroke="{UNMET_STROKE}" stroke-width="1.25">'
                           f'<title>{escape(d["label"])}</title></circle>')
    out.extend(circles)
    # facilities: clinics under stations under centres, the fullest on top within a tier
    ordered = sorted(facilities, key=lambda f: (_TIER_ORDER.get(f["tier"], 0),
                                                f.get("share") or 0, f["code"]))
    for f in ordered:
        x, y = p.xy(f["lat"], f["lon"])
        if f.get("closed"):
            out.append(f'<g>{_cross(x, y, 5)}<title>{escape(f["label"])}</title></g>')
            continue
        base = {"centre": 3.5, "station": 2.6}.get(f["tier"], 1.6)
        grow = {"centre": 5.0, "station": 3.5}.get(f["tier"], 2.0)
        size = base + (grow * math.sqrt(f["used"] / most_used) if most_used and f["used"] else 0)
        _upper, fill, stroke = LOAD_CLASSES[load_class(f.get("share"))]
        if f.get("new"):
            stroke, stroke_width = NEW_STROKE, 2.5
            size = max(size, 5.0)
        else:
            stroke_width = 0.6 if f["tier"] == "clinic" else 1.0
        mark = _mark(f["tier"], x, y, size, fill, stroke, stroke_width)
        if f["tier"] == "clinic" and not f.get("new"):
            out.append(mark)  # a thousand village clinics: no tooltip each, to keep it light
        else:
            out.append(f'<g>{mark}<title>{escape(f["label"])}</title></g>')
    # labels above everything, with a white halo, moved aside where they would overlap: the
    # facilities a scenario opens or closes first, then the districts with most unplaced
    placed = _map_furniture(p)
    bounds = (0, 0, width, height)
    for f in facilities:
        if f.get("new") or f.get("closed"):
            x, y = p.xy(f["lat"], f["lon"])
            out.append(_label(f["code"], x, y, 7, placed, bold=True, bounds=bounds))
    for d in sorted(districts, key=lambda d: (-d["unplaced"], d["code"])):
        x, y = p.xy(d["lat"], d["lon"])
        r = max(unmet_radius(d["unplaced"], most_unplaced), 4)
        out.append(_label(d.get("short") or d["label"], x, y, r, placed, bounds=bounds))
    _scale_and_north(p, out, north_label, km_label)
    out.append("</svg>")
    return Markup("\n".join(out))


# --- a scale-up sweep's ranking on the map ------------------------------------------------------
def gain_class(gain: float, best: float) -> int:
    """The index in LOAD_CLASSES (used as a light-to-dark ramp) of a candidate's objective gain
    against the best one's: 0 for no gain, the darkest for the best."""
    if gain <= 0 or best <= 0:
        return 0
    return min(len(LOAD_CLASSES) - 1, 1 + int(3.999 * gain / best))


def ranking_map(*, map_id: str, title: str, desc: str, projection: Projection,
                candidates: Sequence[dict], north_label: str = "N",
                km_label: str = "km") -> Markup:
    """A sweep's candidates where they are, each labelled with its rank (and code), the darker
    the more its change lowers the objective: a facility given more places as its tier's mark,
    a township where a station would open as a triangle outlined in black. Labels never overlap
    (place_label; leader lines where they had to move).

    candidates: {rank, code, tier, lat, lon, gain, new, label (the tooltip)}, best first."""
    p = projection
    out = _open(map_id, title, desc, p.width, p.height, "map")
    _graticule(p, out)
    best = max((c["gain"] for c in candidates), default=0)
    for c in reversed(candidates):  # the best drawn last, on top
        x, y = p.xy(c["lat"], c["lon"])
        _upper, fill, stroke = LOAD_CLASSES[gain_class(c["gain"], best)]
        tier = "station" if c.get("new") else c["tier"]
        mark = _mark(tier, x, y, 5.0, fill, NEW_STROKE if c.get("new") else stroke,
                     2.0 if c.get("new") else 1.0)
        out.append(f'<g>{mark}<title>{escape(c["label"])}</title></g>')
    placed = _map_furniture(p)
    bounds = (0, 0, p.width, p.height)
    for c in candidates:
        x, y = p.xy(c["lat"], c["lon"])
        out.append(_label(f'{c["rank"]} {c["code"]}', x, y, 6, placed, bounds=bounds,
                          bold=c["rank"] <= 3))
    _scale_and_north(p, out, north_label, km_label)
    out.append("</svg>")
    return Markup("\n".join(out))
