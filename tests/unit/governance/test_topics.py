"""Hot topics on a small hand-made board: two concrete problems, one stray message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jiesu.governance.topics import Message, hot_topics

T = datetime(2019, 8, 1, tzinfo=UTC)
NOISE = [
    "A5区劳动东路魅力之城小区临街门面油烟扰民",
    "魅力之城小区临街门面烧烤夜宵摊油烟噪音扰民",
    "A市魅力之城小区楼下烧烤油烟噪音严重",
    "投诉魅力之城小区临街餐饮店油烟噪音扰民",
]
PARKING = [
    "A市伊景园滨河苑捆绑销售车位",
    "坚决反对伊景园滨河苑强制捆绑销售车位",
]


def _board() -> list[Message]:
    msgs = [
        Message(
            id=f"n{i}",
            title=t,
            body=t + "，晚上无法休息。",
            at=T + timedelta(days=i),
            citizen=f"u{i}",
        )
        for i, t in enumerate(NOISE)
    ]
    msgs += [
        Message(
            id=f"p{i}",
            title=t,
            body=t + "，开发商强制购买。",
            at=T + timedelta(days=i),
            citizen=f"v{i}",
            support=40,
        )
        for i, t in enumerate(PARKING)
    ]
    msgs.append(Message(id="x", title="咨询公积金贷款额度", body="公积金贷款额度怎么算", at=T))
    return msgs


def test_messages_about_one_place_and_problem_form_one_topic() -> None:
    topics = hot_topics(_board(), top=5)
    by_ids = {frozenset(t.message_ids): t for t in topics}
    noise = by_ids[frozenset(f"n{i}" for i in range(4))]
    parking = by_ids[frozenset({"p0", "p1"})]
    assert noise.place == "魅力之城小区"
    assert parking.place == "伊景园滨河苑"
    assert noise.affected_group == "居民" or noise.affected_group == "商户"
    assert [t.rank for t in topics] == list(range(1, len(topics) + 1))
    assert topics[-1].message_ids == ["x"]


def test_the_json_shape_is_the_contract() -> None:
    body = hot_topics(_board(), top=1)[0].as_dict()
    for key in ("rank", "heat", "description", "place", "time_range", "message_ids"):
        assert key in body
    # Two citizens with 80 likes between them outrank four without any.
    assert body["rank"] == 1 and body["message_ids"] == ["p0", "p1"]


def test_a_block_where_no_place_is_named_twice_is_still_clustered() -> None:
    # Regression: two short consultations share no place name; the place vectors had zero
    # columns and sklearn's normalize refused them, failing the whole month.
    msgs = [
        Message(
            id="a", title="来电咨询个人所得税汇算清缴。", body="来电咨询个人所得税汇算清缴。", at=T
        ),
        Message(
            id="b",
            title="来电咨询医保报销范围。",
            body="来电咨询医保报销范围。",
            at=T + timedelta(days=1),
        ),
    ]
    topics = hot_topics(msgs, top=5)
    assert sorted(i for t in topics for i in t.message_ids) == ["a", "b"]
