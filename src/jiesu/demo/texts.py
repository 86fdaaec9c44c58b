"""Synthetic but realistic citizen words for the demo city (never real people)."""

from __future__ import annotations

import random

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰"
COMPOUNDS = [
    "幸福里",
    "阳光花园",
    "金隅嘉华",
    "远洋山水",
    "万科城",
    "富力城",
    "望京西园",
    "团结湖北里",
    "芳古园",
    "天通苑",
    "回龙观龙泽苑",
    "双井小区",
    "左家庄",
    "甘家口",
    "永定路",
    "大屯里",
    "方庄芳星园",
    "和平里",
    "安贞里",
    "六里屯",
    "清河毛纺",
    "杨庄",
    "鲁谷",
    "育新花园",
]
ROADS = ["建国路", "学院路", "长安街", "朝阳路", "京顺路", "西三环", "南四环", "阜成路", "广渠路"]
SCHOOLS = ["实验小学", "第二中学", "幼儿园", "职业学校"]
DETAILS = [
    "已经持续一个多月了",
    "多次向物业反映未解决",
    "影响居民正常生活",
    "晚上尤其严重",
    "老人孩子出行很不方便",
    "存在安全隐患",
    "周边居民意见很大",
    "希望有关部门尽快处理",
    "上周反映过一次，至今无人联系",
    "已经严重影响休息",
]


def citizen(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    phone = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
    return name, phone


def address(rng: random.Random, street_name: str) -> str:
    compound = rng.choice(COMPOUNDS)
    return f"{street_name}{compound}{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元"


def complaint_text(rng: random.Random, category_path: list[str], street_name: str) -> str:
    leaf = category_path[-1]
    compound = rng.choice(COMPOUNDS)
    where = rng.choice(
        [
            f"{street_name}{compound}小区",
            f"{street_name}{rng.choice(ROADS)}附近",
            f"{compound}小区{rng.randint(1, 30)}号楼",
            f"{street_name}{rng.choice(SCHOOLS)}门口",
        ]
    )
    opener = rng.choice(["来电反映", "市民反映", "来电人称", "诉求人反映"])
    ask = rng.choice(["希望尽快解决", "要求相关部门处理", "请相关部门核实", "希望给予答复"])
    return f"{opener}{where}存在{leaf}问题，{rng.choice(DETAILS)}，{ask}。"
