from __future__ import annotations

from jiesu.triage.classifier import TextModel, train

# A tiny corpus in the competition's level-1 labels: quick to train, clear enough to learn.
_TOPICS = {
    "环境保护": ["噪音扰民", "油烟污染", "污水偷排", "垃圾焚烧冒烟", "搅拌站灰尘"],
    "教育文体": ["学校乱收费", "幼儿园入园难", "老师有偿补课", "学区划分", "体育馆不开放"],
    "交通运输": ["公交线路太少", "出租车拒载", "红绿灯坏了", "道路拥堵", "地铁站黑车"],
}
_FRAMES = ["小区附近{}问题严重，请尽快处理", "反映{}，希望有关部门管一管", "我们这里{}已经很久了"]


def corpus() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for label, topics in _TOPICS.items():
        for topic in topics:
            for frame in _FRAMES:
                texts.append(frame.format(topic))
                labels.append(label)
    return texts, labels


def small_model() -> TextModel:
    texts, labels = corpus()
    return train(texts, labels, seed=0)
