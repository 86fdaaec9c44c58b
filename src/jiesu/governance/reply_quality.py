"""Reply quality (答复意见质量): how well a unit's reply answers the citizen's request.

Three parts, each in [0, 1], with the reasons a supervisor can act on:

* relevance — does the reply speak of what was asked: cosine similarity of character 2-gram
  profiles (request vs. reply, boilerplate removed) blended with the share of the request's
  key words (places, objects) that the reply repeats;
* completeness — the five things a good reply says (Beijing's 办结反馈 practice): who handled
  it (a named unit), what was done (调查/核实/处理/整改…), when (a date or 近日/目前), on what
  legal or policy basis (依据/根据/按照, 《…》, 条例/规定/办法), and the next step or a contact
  (下一步/后续/联系电话/a phone number);
* timeliness — reply time minus request time against the normal reply limit of 7 days
  (DB11/T 2021 draft, DESIGN §4): full marks within it, then falling to 0 at 60 days.

score = 100 × (0.4·relevance + 0.4·completeness + 0.2·timeliness); grades A ≥ 80, B ≥ 65,
C ≥ 50, D below. Pure: no I/O, no clock (the times are given).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jieba  # type: ignore[import-untyped,unused-ignore]
import jieba.analyse  # type: ignore[import-untyped,unused-ignore]

from jiesu.governance.stopwords import COMMON

jieba.setLogLevel(60)

W_RELEVANCE = 0.4
W_COMPLETENESS = 0.4
W_TIMELINESS = 0.2
REPLY_LIMIT_DAYS = 7.0
ZERO_AT_DAYS = 60.0

_BOILERPLATE = re.compile(
    r"网友[：:]?|您好|你好|来信收悉|留言收悉|现将有关情况(回复|答复)如下|感谢您[^。！!，,]{0,12}(支持|关注|监督)[^。！!]{0,8}|"
    r"特此回复|此复|[0-9０-９]{4}年[0-9０-９]{1,2}月[0-9０-９]{1,2}日"
)
_STOP = COMMON | {
    "您",
    "网友",
    "回复",
    "答复",
    "感谢",
    "支持",
    "工作",
    "书记",
    "市长",
    "请求",
    "非常",
    "由于",
    "只能",
    "听说",
    "这个",
    "这些",
    "他们",
    "如果",
    "因为",
    "所以",
    "但是",
    "而且",
    "一直",
    "多次",
}
ELEMENTS: dict[str, tuple[str, re.Pattern[str]]] = {
    "who": (
        "承办单位",
        re.compile(r"[局委办厅院所队站]|中心|街道|政府|公司|管委会|我单位|我局|我委|我院|社区"),
    ),
    "what": (
        "处理情况",
        re.compile(
            r"调查|核实|核查|处理|整改|协调|落实|安排|督促|责令|约谈|查处|已经|现场|答复如下"
        ),
    ),
    "when": (
        "时间",
        re.compile(r"\d{1,4}年|\d{1,2}月\d{1,2}日|\d{1,2}月|近日|日前|目前|今年|近期|期间|届时"),
    ),
    "basis": (
        "依据",
        re.compile(r"依据|根据|按照|依照|《[^》]{2,40}》|条例|规定|办法|法律|政策|文件|标准"),
    ),
    "next": (
        "下一步/联系方式",
        re.compile(
            r"下一步|后续|将继续|将进一步|如有疑问|咨询|联系电话|电话|联系人|\d{3,4}-?\d{7,8}|1\d{10}"
        ),
    ),
}
MIN_REPLY_CHARS = 30


@dataclass(frozen=True)
class ReplyQuality:
    score: float
    grade: str
    relevance: float
    completeness: float
    timeliness: float | None
    delay_days: float | None
    elements: dict[str, bool]
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "grade": self.grade,
            "relevance": round(self.relevance, 3),
            "completeness": round(self.completeness, 3),
            "timeliness": None if self.timeliness is None else round(self.timeliness, 3),
            "delay_days": None if self.delay_days is None else round(self.delay_days, 1),
            "elements": self.elements,
            "reasons": self.reasons,
        }


def _clean(text: str) -> str:
    return re.sub(r"\s+", "", _BOILERPLATE.sub("", text))


def _bigrams(text: str) -> Counter[str]:
    chars = [c for c in text if not c.isspace()]
    return Counter(a + b for a, b in itertools.pairwise(chars))


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def key_words(text: str, k: int = 8) -> list[str]:
    """The request's key words by jieba's own TF-IDF (its bundled IDF table, nothing fetched)."""
    tags = jieba.analyse.extract_tags(text, topK=k + len(_STOP))
    return [w for w in tags if w not in _STOP and re.search(r"[\u4e00-\u9fff]", w)][:k]


def relevance(request: str, reply: str) -> tuple[float, list[str]]:
    """(score, the request's key words the reply never mentions)."""
    req, rep = _clean(request), _clean(reply)
    cos = _cosine(_bigrams(req), _bigrams(rep))
    keys = key_words(req)
    missing = [w for w in keys if w not in rep]
    coverage = 1 - len(missing) / len(keys) if keys else 0.0
    # Bigram cosine rarely passes 0.5 even for a good reply (the reply is written in official
    # language, the request in the citizen's), so it is stretched before blending.
    return min(1.0, 0.5 * min(1.0, cos / 0.5) + 0.5 * coverage), missing


def timeliness(delay_days: float) -> float:
    if delay_days <= REPLY_LIMIT_DAYS:
        return 1.0
    span = ZERO_AT_DAYS - REPLY_LIMIT_DAYS
    return max(0.0, 1.0 - (delay_days - REPLY_LIMIT_DAYS) / span)


def grade(score: float) -> str:
    return "A" if score >= 80 else "B" if score >= 65 else "C" if score >= 50 else "D"


def assess_reply(
    request: str,
    reply: str,
    *,
    requested_at: datetime | None = None,
    replied_at: datetime | None = None,
) -> ReplyQuality:
    """Score one reply. Without both times, timeliness is left out and its weight goes to the
    other two parts."""
    if not reply.strip():
        raise ValueError("the reply is empty")
    if not request.strip():
        raise ValueError("the request is empty")
    reasons: list[str] = []
    rel, missing = relevance(request, reply)
    if rel < 0.4:
        reasons.append(f"答复与诉求关联度低（{rel:.2f}）")
    if missing:
        reasons.append("未回应诉求要点：" + "、".join(missing[:5]))
    elements = {name: bool(rx.search(reply)) for name, (_, rx) in ELEMENTS.items()}
    completeness = sum(elements.values()) / len(elements)
    lacking = [ELEMENTS[name][0] for name, ok in elements.items() if not ok]
    if lacking:
        reasons.append("缺少：" + "、".join(lacking))
    if len(_clean(reply)) < MIN_REPLY_CHARS:
        completeness = min(completeness, 0.4)
        reasons.append(f"答复过短（不足{MIN_REPLY_CHARS}字）")
    delay: float | None = None
    timely: float | None = None
    if requested_at is not None and replied_at is not None:
        delay = (replied_at - requested_at).total_seconds() / 86400
        if delay < 0:
            raise ValueError("the reply time is before the request time")
        timely = timeliness(delay)
        if delay > REPLY_LIMIT_DAYS:
            reasons.append(f"答复用时{delay:.1f}天，超过{REPLY_LIMIT_DAYS:.0f}天时限")
        raw = W_RELEVANCE * rel + W_COMPLETENESS * completeness + W_TIMELINESS * timely
    else:
        raw = (W_RELEVANCE * rel + W_COMPLETENESS * completeness) / (W_RELEVANCE + W_COMPLETENESS)
    score = round(100 * raw, 1)
    return ReplyQuality(
        score=score,
        grade=grade(score),
        relevance=rel,
        completeness=completeness,
        timeliness=timely,
        delay_days=delay,
        elements=elements,
        reasons=reasons,
    )
