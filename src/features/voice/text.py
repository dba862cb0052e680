"""Chinese comment text: the personal-data scrubber and jieba segmentation with a car-owner
dictionary.

``scrub`` runs before any text reaches processed data, MLflow or a report: it replaces phone
numbers (with or without +86, spaces or dashes), ID-card numbers, plate numbers and the person
names jieba finds (a surname followed by a word its dictionary tags ``nr`` or does not know) or
that follow a self-introduction
("我是", "我叫", "联系人") with placeholders, and says which kinds it removed. ``segment``
cuts a text into words with jieba plus ``USER_WORDS`` (续航, 充电桩, 车机, 异响, 智驾 …), so
that a car owner's words stay whole.

May import jieba and the foundation modules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]\s?[A-HJ-NP-Z0-9]{5,6}"
)
INTRODUCED_NAME = re.compile(r"(我是|我叫|联系人|车主)([\u4e00-\u9fff]{2,3})(?![\u4e00-\u9fff])")
# The most common surnames: a name jieba tags ``nr`` is removed when it starts with one (the
# tagger alone also tags ordinary words as names).
COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
)
PLACEHOLDERS = {"phone": "[电话]", "id_number": "[身份证]", "plate": "[车牌]", "name": "[姓名]"}
# Words of car owners that jieba's general dictionary cuts apart (word, frequency, tag).
USER_WORDS = (
    "续航", "续航焦虑", "充电桩", "快充", "慢充", "超充", "车机", "异响", "智驾", "辅助驾驶",
    "OTA", "App", "4S店", "售后", "保养", "表显续航", "电耗", "冬季续航", "语音助手", "死机",
    "卡顿", "急刹", "取送车", "服务顾问", "性价比", "电费", "油车", "降价", "提车", "保值",
)  # fmt: skip
# English glosses of frequent owner words, for topic labels a non-Chinese reader can follow.
GLOSSARY = {
    "续航": "range", "冬天": "winter", "充电": "charging", "充电桩": "charger", "快充": "fast charge",
    "排队": "queue", "售后": "after-sales", "保养": "maintenance", "维修": "repair",
    "服务": "service", "等": "wait", "配件": "parts", "车机": "head unit", "卡顿": "lag",
    "死机": "freeze", "导航": "navigation", "App": "app", "语音助手": "voice assistant",
    "OTA": "OTA", "升级": "update", "bug": "bug", "智驾": "driver assist", "异响": "noise",
    "价格": "price", "保险": "insurance", "降价": "price cut", "性价比": "value for money",
    "成本": "cost", "电费": "electricity cost", "方便": "convenient", "满意": "satisfied",
    "推荐": "recommend", "失望": "disappointed", "流畅": "smooth", "专业": "professional",
    "贴心": "caring", "及时": "timely", "功能": "features", "扎实": "solid", "虚标": "overstated",
    "空调": "air con", "宣传": "advertised", "贵": "expensive", "便宜": "cheap", "省": "save",
    "好用": "easy to use", "态度": "attitude", "预约": "booking", "效率": "efficiency",
    "远程": "remote", "辅助驾驶": "assisted driving", "急刹": "harsh braking", "新": "new",
    "改进": "improve", "吐槽": "complain", "点赞": "like", "焦虑": "anxiety", "掉": "drop",
    "冬季续航": "winter range", "表显续航": "displayed range", "电耗": "energy use",
    "公共充电": "public charging", "覆盖": "coverage", "4S店": "dealer", "取送车": "pick-up",
    "反应": "response", "连不上": "cannot connect", "推送": "rollout", "稳": "steady",
    "配件价格": "parts price", "用车成本": "running cost", "实在": "fair", "油车": "petrol car",
}  # fmt: skip


@cache
def _jieba():
    import jieba  # deferred: loads its dictionary (about a second)
    import jieba.posseg

    jieba.setLogLevel(60)
    for word in USER_WORDS:
        jieba.add_word(word, freq=20_000, tag="n")
    return jieba


def scrub(text: str) -> tuple[str, list[str]]:
    """``text`` without the personal data it can detect, and the kinds it removed."""
    found: list[str] = []
    for kind, pattern in (("id_number", ID_NUMBER), ("phone", PHONE), ("plate", PLATE)):
        text, n = pattern.subn(PLACEHOLDERS[kind], text)
        found += [kind] * n
    text, n = INTRODUCED_NAME.subn(lambda m: m.group(1) + PLACEHOLDERS["name"], text)
    found += ["name"] * n
    if not COMMON_SURNAMES.intersection(text):
        return text, found
    words = _jieba().lcut(text)
    names = [_is_name(w) for w in words]
    if any(names):
        text = "".join(PLACEHOLDERS["name"] if is_name else w
                       for w, is_name in zip(words, names, strict=True))  # fmt: skip
        found += ["name"] * sum(names)
    return text, found


def _is_name(word: str) -> bool:
    """A 2-3 character word starting with a common surname that the dictionary tags as a
    person's name (``nr``) or does not know (jieba's HMM found it: typically a name)."""
    if not (2 <= len(word) <= 3 and word[0] in COMMON_SURNAMES):
        return False
    tag = _word_tags().get(word)
    return tag == "nr" or (tag is None and word not in _jieba().dt.FREQ)


@cache
def _word_tags() -> dict[str, str]:
    return _jieba().posseg.dt.word_tag_tab


def scrub_all(texts: Iterable[str]) -> tuple[list[str], dict[str, int]]:
    """Every text scrubbed, and how many items of each kind were removed."""
    clean, counts = [], dict.fromkeys(PLACEHOLDERS, 0)
    for text in texts:
        out, kinds = scrub(str(text))
        clean.append(out)
        for kind in kinds:
            counts[kind] += 1
    return clean, counts


def segment(text: str) -> list[str]:
    """The words of ``text`` (jieba with the owner dictionary; punctuation and spaces dropped)."""
    return [w for w in _jieba().lcut(text) if w.strip() and not re.fullmatch(r"[\W_]+", w)]


def gloss(words: Iterable[str]) -> str:
    """English glosses of the words the glossary knows, in order ("" when none)."""
    return ", ".join(dict.fromkeys(GLOSSARY[w] for w in words if w in GLOSSARY))
