"""The closed vocabularies of the domain, in one place: the database CHECK constraints, the
schemas, the import validator and the UI all read them from here."""
from __future__ import annotations

REGION_LEVELS = ("city", "district", "township", "village")
# The local name of each level (旗 banner, 苏木 sumu, 嘎查 gacha ...).
REGION_KINDS = {
    "city": ("city",),
    "district": ("district", "banner", "county_city"),
    "township": ("township", "sumu", "street"),
    "village": ("village", "gacha", "community"),
}
TIERS = ("centre", "station", "clinic")
OWNERSHIPS = ("public", "private", "contracted")
FACILITY_STATUSES = ("open", "planned", "closed")

# GB/T 26341-2010 categories 1-7, plus autism as its own programme category.
CATEGORIES = ("vision", "hearing", "speech", "physical", "intellectual", "mental", "multiple",
              "autism")
SERVICE_KINDS = ("assessment", "surgery", "device_fitting", "training", "day_care", "follow_up")

SEXES = ("M", "F")
POVERTY_STATUSES = ("none", "dibao", "jiandang")
CASE_STATUSES = ("registered", "waiting", "assigned", "in_service", "completed", "closed")
OPEN_CASE_STATUSES = ("registered", "waiting", "assigned", "in_service")
PRIORITY_CLASSES = ("child", "severe", "poor", "standard")

LABELS_ZH = {
    "city": "市", "district": "旗市区", "township": "苏木乡镇街道", "village": "嘎查村社区",
    "centre": "康复中心/定点机构", "station": "乡镇康复站", "clinic": "村卫生室",
    "vision": "视力", "hearing": "听力", "speech": "言语", "physical": "肢体",
    "intellectual": "智力",
    "mental": "精神", "multiple": "多重", "autism": "孤独症",
    "assessment": "评估", "surgery": "手术", "device_fitting": "辅助器具适配",
    "training": "康复训练",
    "day_care": "托养/日间照料", "follow_up": "随访",
    "child": "0-6岁儿童", "severe": "重度", "poor": "困难家庭", "standard": "一般",
}


def sql_in(column: str, values) -> str:
    """A CHECK constraint body: column IN ('a', 'b')."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
