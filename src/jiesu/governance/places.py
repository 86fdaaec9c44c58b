"""Places and affected groups named in citizens' own words.

A hot topic is "the same concrete problem in the same place", so the place must be the one the
citizens wrote (魅力之城小区, 经济学院, 劳动东路), not an administrative unit. Free text has no
word boundaries, so the left edge of a name is found from the messages themselves: among every
substring that ends in a place suffix (小区, 花园, 学院, 公司, 路 …), the one most messages of a
group share wins, and among equally shared ones the longest. Coded admin places of anonymised
exports ("A市", "A5区", "K8县") are recognised as districts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

# Longest suffixes first so that 花园小区 is preferred to 小区 when both end a name.
PLACE_SUFFIXES: tuple[str, ...] = (
    "花园小区",
    "安置小区",
    "职业技术学院",
    "幼儿园",
    "小区",
    "花园",
    "家园",
    "新城",
    "新村",
    "公寓",
    "广场",
    "大厦",
    "名苑",
    "华苑",
    "雅苑",
    "苑",
    "府",
    "公馆",
    "山庄",
    "城",
    "湾",
    "庭",
    "院",
    "学院",
    "大学",
    "中学",
    "小学",
    "学校",
    "医院",
    "公司",
    "集团",
    "市场",
    "商场",
    "车站",
    "地铁站",
    "大道",
    "路",
    "街",
    "桥",
    "村",
    "社区",
    "镇",
    "乡",
    "公园",
    "工业园",
    "产业园",
    "搅拌站",
    "车贷",
)
# Words that end in a suffix but name no place (城管 ends in 城 only by accident of cutting).
_NOT_PLACES = frozenset(
    {
        "小区",
        "安置小区",
        "花园小区",
        "花园",
        "家园",
        "公司",
        "学校",
        "学院",
        "大学",
        "医院",
        "社区",
        "农村",
        "城市",
        "县城",
        "市场",
        "道路",
        "马路",
        "公路",
        "线路",
        "出路",
        "法院",
        "物业公司",
        "开发商公司",
        "我们小区",
        "该小区",
        "本小区",
        "整个小区",
        "附近小区",
        "周边小区",
        "老旧小区",
        "业主",
    }
)
# Characters that cannot be inside a place name: punctuation, spaces and function words that
# mark the edge of a clause (我们/位于/的 …).
_EDGE = re.compile(r"[\s，。！？、；：,.!?;:（）()【】\[\]“”\"'《》<>…—\-/\\]")
_LEAD_WORDS = (
    "我们",
    "我是",
    "位于",
    "关于",
    "反映",
    "投诉",
    "举报",
    "建议",
    "请问",
    "咨询",
    "希望",
    "请求",
    "住在",
    "居住",
    "在",
    "是",
    "的",
    "对",
    "和",
    "与",
    "及",
    "了",
    "请",
    "给",
    "把",
    "被",
    "将",
    "由",
)
# A suffix followed by one of these characters is the start of a longer word.
_CONTINUES = {
    "街": "道坊区",
    "城": "区市管际乡",
    "镇": "政",
    "村": "民委",
    "府": "门",
    "路": "口段线",
}
# Suffixes of areas too broad to tie two groups into one topic (a whole street or town).
BROAD_SUFFIXES = ("街", "镇", "乡", "社区", "村", "城")
ADMIN_RE = re.compile(r"[A-Z]\d{0,2}[市区县]|西地省")
_MAX_NAME = 12
_MIN_NAME = 2

# Who is affected, by the words citizens use of themselves; first match in count order wins.
AFFECTED_GROUPS: dict[str, tuple[str, ...]] = {
    "业主": ("业主", "购房者", "房主"),
    "居民": ("居民", "住户", "周边群众", "附近群众"),
    "学生": ("学生", "实习"),
    "家长": ("家长", "孩子", "小孩", "入学"),
    "村民": ("村民", "农民", "组民"),
    "职工": ("职工", "员工", "工人", "教师", "老师", "医生", "护士"),
    "投资人/受害人": ("受害人", "投资人", "出借人", "集资"),
    "乘客/司机": ("乘客", "司机", "公交", "车主", "出行"),
    "老人": ("老人", "老年人", "退休"),
    "商户": ("商户", "个体户", "门面", "店主"),
}


def admin_places(text: str) -> list[str]:
    return ADMIN_RE.findall(text)


def _clean_candidate(name: str) -> tuple[str, bool] | None:
    """The name without clause-leading words, and whether it starts at a word edge."""
    edge = False
    changed = True
    while changed:
        changed = False
        for word in _LEAD_WORDS:
            if name.startswith(word) and len(name) - len(word) >= _MIN_NAME + 1:
                name = name[len(word) :]
                changed = edge = True
    if len(name) < _MIN_NAME + 1 or name in _NOT_PLACES or name.isdigit():
        return None
    # One character before a two-character suffix (园小区, 湾小区) is a fragment of several
    # names, never a name of its own.
    if any(
        name.endswith(x) and len(name) - len(x) < _MIN_NAME for x in PLACE_SUFFIXES if len(x) >= 2
    ):
        return None
    return name, edge


def candidates(text: str) -> dict[str, bool]:
    """Every substring that could name a place: it ends in a place suffix, holds no
    punctuation or coded admin place, and is 3–12 characters long; with whether it starts at
    a clause edge (after punctuation, an admin code or a leading word such as 位于)."""
    found: dict[str, bool] = {}
    for clause in _EDGE.split(ADMIN_RE.sub(" ", text)):
        clause = clause.strip()
        if len(clause) < _MIN_NAME + 1:
            continue
        for suffix in PLACE_SUFFIXES:
            start = 0
            while True:
                at = clause.find(suffix, start)
                if at < 0:
                    break
                end = at + len(suffix)
                if clause[end : end + 1] in _CONTINUES.get(suffix, ""):
                    start = at + 1
                    continue  # 暮云街道 is a street office, not a 街; 新城区 not a 新城
                for left in range(max(0, end - _MAX_NAME), at):
                    got = _clean_candidate(clause[left:end])
                    if got is not None:
                        name, edge = got
                        found[name] = found.get(name, False) or edge or left == 0
                start = at + 1
    return found


def shared_place(texts: Sequence[str], *, min_share: float = 0.34) -> str:
    """The place most of a group's messages name. Seed: the candidate found in the most
    distinct messages; then grow it leftwards while the longer name keeps 80% of those
    messages (滨河苑 → 景园滨河苑 → 伊景园滨河苑), so a fragment never wins over the whole
    name and the rest of a sentence never sticks to it. Empty if no candidate is shared by at
    least `min_share` of the messages."""
    distinct = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
    counts: Counter[str] = Counter()
    for text in distinct:
        counts.update(candidates(text).keys())
    if not counts:
        return ""
    need = max(1, int(len(distinct) * min_share + 0.999)) if len(distinct) > 1 else 1
    seed, best = max(counts.items(), key=lambda kv: (kv[1], -len(kv[0])))
    if best < need:
        return ""
    current = seed
    while True:
        longer = [
            n
            for n, c in counts.items()
            if len(n) == len(current) + 1 and n.endswith(current) and c >= 0.6 * counts[current]
        ]
        if not longer:
            break
        current = max(longer, key=lambda n: counts[n])
    # Then the suffix the citizens add on the right (魅力之城 → 魅力之城小区).
    wider = [n for n, c in counts.items() if n.startswith(current) and c >= 0.8 * counts[current]]
    return max(wider, key=len)


def affected_group(texts: Iterable[str]) -> str:
    joined = "\n".join(texts)
    scores = {
        group: sum(joined.count(word) for word in words) for group, words in AFFECTED_GROUPS.items()
    }
    group, score = max(scores.items(), key=lambda item: item[1])
    return group if score > 0 else "市民"
