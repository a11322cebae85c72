"""Invented names: places from syllable pools (Han names for towns and villages, Mongolian-style
names for sumu and gacha), persons by naming style and generation. Every name is a random
combination; any match with a real place or person is a coincidence."""
from __future__ import annotations

# (character, pinyin) pairs; the first syllable of a two-syllable Han place name ...
HAN_FIRST = (
    ("兴", "xing"), ("永", "yong"), ("太", "tai"), ("长", "chang"), ("新", "xin"), ("东", "dong"),
    ("西", "xi"), ("南", "nan"), ("北", "bei"), ("红", "hong"), ("富", "fu"), ("德", "de"),
    ("庆", "qing"), ("丰", "feng"), ("宝", "bao"), ("吉", "ji"), ("和", "he"), ("安", "an"),
    ("青", "qing"), ("金", "jin"), ("双", "shuang"), ("同", "tong"), ("广", "guang"),
    ("胜", "sheng"), ("光", "guang"), ("前", "qian"), ("后", "hou"), ("民", "min"), ("万", "wan"),
    ("团", "tuan"), ("平", "ping"), ("建", "jian"), ("友", "you"), ("义", "yi"), ("振", "zhen"),
)
# ... and the second.
HAN_SECOND = (
    ("隆", "long"), ("安", "an"), ("平", "ping"), ("丰", "feng"), ("兴", "xing"), ("胜", "sheng"),
    ("发", "fa"), ("和", "he"), ("源", "yuan"), ("山", "shan"), ("河", "he"), ("林", "lin"),
    ("阳", "yang"), ("华", "hua"), ("盛", "sheng"), ("昌", "chang"), ("顺", "shun"), ("庆", "qing"),
    ("福", "fu"), ("宁", "ning"), ("泉", "quan"), ("岭", "ling"), ("乐", "le"), ("合", "he"),
    ("利", "li"), ("成", "cheng"), ("春", "chun"), ("旺", "wang"), ("升", "sheng"), ("祥", "xiang"),
    ("明", "ming"), ("新", "xin"), ("兰", "lan"), ("峰", "feng"), ("荣", "rong"), ("泰", "tai"),
    ("江", "jiang"), ("星", "xing"),
)
# Northeastern village names of the form 王家屯, 三道沟.
VILLAGE_SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("赵", "zhao"), ("孙", "sun"),
    ("杨", "yang"), ("于", "yu"), ("高", "gao"), ("马", "ma"), ("郭", "guo"), ("韩", "han"),
    ("曲", "qu"), ("姜", "jiang"), ("董", "dong"), ("齐", "qi"), ("白", "bai"), ("崔", "cui"),
)
SURNAME_ENDINGS = (("家屯", "jiatun"), ("家沟", "jiagou"), ("家店", "jiadian"),
                   ("家窝堡", "jiawopu"), ("家岗", "jiagang"))
NUMBERS = (("二", "er"), ("三", "san"), ("四", "si"), ("五", "wu"), ("六", "liu"), ("七", "qi"),
           ("八", "ba"), ("九", "jiu"), ("十", "shi"))
NUMBER_ENDINGS = (("道沟", "daogou"), ("间房", "jianfang"), ("家子", "jiazi"), ("道河", "daohe"))

# Mongolian-style syllables (Chinese transcription, romanisation) for sumu and gacha.
MONGOL_FIRST = (
    ("巴彦", "Bayan"), ("乌兰", "Ulan"), ("锡林", "Xilin"), ("呼和", "Huhe"), ("额尔敦", "Erdun"),
    ("阿拉坦", "Altan"), ("查干", "Chagan"), ("宝日", "Bor"), ("沙日", "Shar"), ("希日", "Shir"),
    ("伊和", "Yihe"), ("巴嘎", "Baga"), ("那仁", "Naren"), ("乌力吉", "Uliji"), ("哈拉", "Hara"),
    ("赛罕", "Saihan"), ("德力格尔", "Delger"), ("孟根", "Mungen"), ("塔本", "Taben"),
    ("朝鲁", "Chuluu"), ("额尔和", "Erhe"), ("呼日", "Hur"), ("乌日", "Ur"), ("宝音", "Buyan"),
)
MONGOL_SECOND = (
    ("诺尔", "Nur"), ("塔拉", "Tala"), ("浩特", "Hot"), ("乌苏", "Usu"), ("高勒", "Gol"),
    ("宝力格", "Bulag"), ("温都尔", "Undur"), ("哈达", "Hada"), ("陶勒盖", "Tolgoi"),
    ("敖包", "Obo"), ("布拉格", "Bulag"), ("图", "Tu"), ("花", "Hua"), ("嘎鲁", "Galu"),
    ("锡力", "Xili"), ("芒哈", "Mangha"),
)

# The local name of each region kind: Chinese suffix, English suffix.
KIND_SUFFIX = {
    "street": ("街道", "Street"), "town": ("镇", "Town"), "xiang": ("乡", "Township"),
    "sumu": ("苏木", "Sumu"), "community": ("社区", "Community"), "village": ("村", "Village"),
    "gacha": ("嘎查", "Gacha"),
}


def join_pinyin(*syllables: str) -> str:
    """Pinyin words as written in place names: joined, capitalised, with an apostrophe before a
    syllable that starts with a, o or e (Yong'an, not Yongan)."""
    word = syllables[0]
    for s in syllables[1:]:
        word += ("'" if s[:1] in "aoe" else "") + s
    return word.capitalize()


def han_place(rng) -> tuple[str, str]:
    """A two-syllable Han stem such as 兴隆 / Xinglong."""
    while True:
        (a, pa), (b, pb) = rng.choice(HAN_FIRST), rng.choice(HAN_SECOND)
        if a != b:
            return a + b, join_pinyin(pa, pb)


def han_village(rng) -> tuple[str, str]:
    """A village stem: mostly two syllables, sometimes 王家屯 or 三道沟 as in the northeast."""
    roll = rng.random()
    if roll < 0.25:
        (s, ps), (e, pe) = rng.choice(VILLAGE_SURNAMES), rng.choice(SURNAME_ENDINGS)
        return s + e, join_pinyin(ps, pe)
    if roll < 0.37:
        (n, pn), (e, pe) = rng.choice(NUMBERS), rng.choice(NUMBER_ENDINGS)
        return n + e, join_pinyin(pn, pe)
    return han_place(rng)


def mongol_place(rng) -> tuple[str, str]:
    """A Mongolian-style stem such as 巴彦塔拉 / Bayan Tala."""
    (a, ra), (b, rb) = rng.choice(MONGOL_FIRST), rng.choice(MONGOL_SECOND)
    return a + b, f"{ra} {rb}"


def unique(make, rng, used: set[str]) -> tuple[str, str]:
    """Draw stems until one is not in `used` (names are unique within a division, in Chinese
    and in pinyin: 前河 and 前合 would both be Qianhe)."""
    for _ in range(1000):
        zh, en = make(rng)
        if zh not in used and en not in used:
            used.update((zh, en))
            return zh, en
    raise RuntimeError("name pool exhausted; add syllables to names.py")


def region_name(stem: tuple[str, str], kind: str) -> tuple[str, str]:
    zh_suffix, en_suffix = KIND_SUFFIX[kind]
    return stem[0] + zh_suffix, f"{stem[1]} {en_suffix}"


# --- persons ------------------------------------------------------------------------------------
# Common surnames of the northeast, weighted roughly by frequency.
HAN_SURNAMES = (
    ("王", 8), ("李", 7), ("张", 7), ("刘", 6), ("赵", 4), ("孙", 3), ("杨", 3), ("陈", 2.5),
    ("于", 2), ("高", 2), ("马", 2), ("徐", 1.5), ("周", 1.5), ("吴", 1.5), ("郭", 1.5),
    ("韩", 1.5), ("宋", 1), ("曲", 1), ("姜", 1), ("丁", 1), ("白", 1), ("付", 1), ("崔", 1),
    ("田", 1), ("董", 1), ("齐", 1), ("谷", 0.5), ("邢", 0.5), ("孟", 0.5), ("关", 0.5),
)
# Given names change with fashion: by the decade the person was born in.
HAN_GIVEN = {
    # born before 1960
    "old": {
        "M": ("国庆", "建国", "振华", "德福", "长海", "玉山", "树林", "永财", "宝山", "凤山",
              "满仓", "金贵", "庆祥", "福生", "占魁", "连生"),
        "F": ("桂兰", "淑芬", "秀英", "玉兰", "凤琴", "秀珍", "桂芝", "玉珍", "淑华", "秀兰",
              "凤英", "翠花", "素芳", "桂英", "玉芬", "淑珍"),
    },
    # 1960-1989
    "mid": {
        "M": ("伟", "军", "刚", "勇", "磊", "强", "建军", "海涛", "志强", "立新", "宏伟", "春雷",
              "东明", "晓东", "文斌", "国峰", "永辉", "振宇"),
        "F": ("丽", "静", "艳", "娟", "红梅", "丽娜", "海燕", "春燕", "晓红", "丽华", "雪梅",
              "淑娟", "艳玲", "秀梅", "丽萍", "晓丽"),
    },
    # 1990-2009
    "young": {
        "M": ("浩", "鑫", "宇", "博", "鹏飞", "浩然", "子豪", "天宇", "俊杰", "嘉豪", "宇航",
              "明轩", "思远", "晨阳", "文博"),
        "F": ("婷婷", "雪", "佳琪", "欣怡", "晓雪", "梦琪", "雨欣", "思雨", "诗涵", "佳怡",
              "子涵", "悦", "美琪", "欣然"),
    },
    # 2010 on
    "new": {
        "M": ("子轩", "浩宇", "宇轩", "梓睿", "一鸣", "沐阳", "奕辰", "铭泽", "皓轩", "俊熙",
              "梓航", "若宇", "锦程", "承泽", "宸宇"),
        "F": ("梓涵", "一诺", "欣妍", "可馨", "雨桐", "诗琪", "梓萱", "语汐", "若汐", "沐晨",
              "芷若", "依诺", "思睿", "安琪", "语桐"),
    },
}
# Mongolian given names (used without a surname).
MONGOL_GIVEN = {
    "M": ("巴特尔", "苏和", "额尔德尼", "宝音", "朝鲁", "特木尔", "孟和", "阿拉坦仓", "呼和",
          "毕力格", "巴雅尔", "乌力吉", "那顺", "达来", "敖特根", "吉日嘎拉", "图门", "哈斯",
          "额尔敦", "满都拉"),
    "F": ("其其格", "乌日娜", "图雅", "萨仁", "斯琴", "娜仁", "格日乐", "乌兰", "敖登", "高娃",
          "塔娜", "萨日娜", "阿茹娜", "诺敏", "乌云", "苏日娜", "托娅", "其木格"),
}
# Surnames taken from clan names, common among the Daur, Evenk and Oroqen of the region.
ETHNIC_SURNAMES = {
    "daur": ("敖", "郭", "何", "孟", "鄂", "苏", "金", "吴", "沃", "德"),
    "evenk": ("杜", "涂", "何", "吴", "那", "卡"),
    "oroqen": ("关", "孟", "莫", "魏", "葛", "吴"),
}


def generation(birth_year: int) -> str:
    if birth_year < 1960:
        return "old"
    if birth_year < 1990:
        return "mid"
    if birth_year < 2010:
        return "young"
    return "new"


def han_surname(rng) -> str:
    names, weights = zip(*HAN_SURNAMES, strict=True)
    return rng.choices(names, weights)[0]


def person_name(rng, style: str, sex: str, birth_year: int, surname: str | None = None) -> str:
    """A full name in the given style; `surname` keeps a family's surname (a child's father)."""
    if style == "mongol":
        return rng.choice(MONGOL_GIVEN[sex])
    if style in ETHNIC_SURNAMES:
        # Daur, Evenk and Oroqen families use a Chinese surname from the clan name and a Han or
        # Mongolian given name.
        given = (rng.choice(MONGOL_GIVEN[sex]) if rng.random() < 0.3
                 else rng.choice(HAN_GIVEN[generation(birth_year)][sex]))
        return (surname or rng.choice(ETHNIC_SURNAMES[style])) + given
    return (surname or han_surname(rng)) + rng.choice(HAN_GIVEN[generation(birth_year)][sex])


def family_surname(name: str, style: str) -> str | None:
    """The surname a parent shares with this person, if the naming style has one."""
    if style == "mongol":
        return None
    return name[0]
