"""Owners' comments in Chinese (NPS answers, service feedback, app-store reviews) with truth.

Each owner writes about ``COMMENTS_PER_YEAR`` comments while they are with the brand, at
random moments between delivery and churn (or the window's end). A comment talks about one
main aspect (sometimes a second one) out of ``ASPECTS``, chosen by the owner's experience:
winter range loss in cold cities in winter, long service waits, head-unit and OTA trouble for
tech-minded owners, price for value seekers. Its sentiment follows the owner's satisfaction
(the latent that also drives NPS, complaints and churn), the range-loss shock and the wait, so
text carries signal about churn. Texts are written from phrase banks with variation:
intensifiers, negation in both directions (不太满意 for a negative, 并不差 for a positive),
typos, mixed English (OTA, App, bug), emoji and one to four clauses.

Personal data never appears in a comment except where it is planted on purpose
(``PII_SHARE`` of comments: a phone number, an ID-card number, a plate number or a name) so
that the scrubber (``features.voice.text.scrub``) can be tested; ``comment_truth.parquet``
(evaluation only) records each comment's sentiment, aspects and which PII was planted.

The draws come from a generator of their own (``VOICE_RNG_TAG``), so every other file of a
seed is untouched.

May import numpy, pandas, pyarrow, the foundation modules and the ``features.data`` world
modules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from features.data.synth_funnel import Journeys
from features.data.synth_owners import Owners
from features.data.synth_people import Customers
from features.data.synth_world import DAYS_PER_YEAR, Window, is_winter

VOICE_RNG_TAG = 6_607
COMMENTS_PER_YEAR = 1.5
SOURCES = ("nps", "service", "app_review")
SOURCE_SHARES = (0.55, 0.3, 0.15)
SECOND_ASPECT_SHARE = 0.3
PII_SHARE = 0.03
ASPECTS = ("range", "charging", "service", "infotainment", "ota", "price")
ASPECT_GLOSS = {"range": "driving range (续航)", "charging": "charging (充电)",
                "service": "after-sales service (售后)", "infotainment": "head unit and app (车机)",
                "ota": "OTA updates and driver assist (OTA/智驾)", "price": "price and cost (价格)"}  # fmt: skip
# Base aspect weights by persona (schema.PERSONAS order) and the experience multipliers.
ASPECT_WEIGHTS = np.array([
    [1.0, 1.0, 1.0, 2.0, 2.5, 0.6],  # young_tech_enthusiast
    [1.2, 1.2, 1.5, 0.8, 0.6, 1.2],  # family_practical
    [0.8, 0.8, 1.6, 1.2, 1.0, 0.4],  # high_net_worth
    [1.0, 1.6, 1.0, 1.0, 0.8, 1.0],  # urban_commuter
    [1.0, 1.0, 1.0, 0.6, 0.5, 2.5],  # value_seeker
])  # fmt: skip
RANGE_SHOCK_WINTER_FACTOR = 6.0
WAIT_FACTOR = 1.5  # service weight x (1 + WAIT_FACTOR * z) for waits above the mean
NEGATIVE_BASE = -0.4
NEGATIVE_SATISFACTION = -1.8
NEGATIVE_RANGE_SHOCK = 2.0  # a range comment by a shocked owner in winter
NEGATIVE_WAIT = 0.9  # a service comment, per standard deviation of wait

# A clause is a subject naming the aspect and a predicate judging it; any subject of an
# aspect goes with any of its predicates (so words of one aspect co-occur across comments).
SUBJECTS = {
    "range": ["续航", "冬季续航", "表显续航", "电耗"],
    "charging": ["充电", "充电桩", "快充", "公共充电"],
    "service": ["售后", "保养", "维修", "4S店服务"],
    "infotainment": ["车机", "App", "导航", "语音助手"],
    "ota": ["OTA", "升级", "智驾", "辅助驾驶"],
    "price": ["价格", "保险", "配件价格", "用车成本"],
}
PREDICATES = {
    ("range", "neg"): ["掉得厉害", "虚标严重", "一到冬天就打对折", "和宣传差太多", "开空调掉得飞快"],
    ("range", "pos"): ["很扎实", "表现不错", "跑高速也够用", "比宣传的还好", "冬天也还行"],
    ("charging", "neg"): ["太难找", "要排队半小时", "经常坏", "速度太慢", "老被油车占"],
    ("charging", "pos"): ["很方便", "速度很快", "很省心", "覆盖很广"],
    ("service", "neg"): ["等了好几天", "预约太难", "态度差", "等配件等了两周", "效率太低"],
    ("service", "pos"): ["很贴心", "很快", "很专业", "上门取送车很方便"],
    ("infotainment", "neg"): ["卡顿", "经常死机", "反应慢", "老是连不上", "听不懂话"],
    ("infotainment", "pos"): ["很流畅", "很好用", "反应很快", "很准"],
    ("ota", "neg"): ["出了bug", "以后有异响", "推送太慢", "经常急刹", "以后更卡了"],
    ("ota", "pos"): ["很及时", "每次都有新功能", "越来越好用", "很稳"],
    ("price", "neg"): ["刚买就降", "太贵", "太高", "不便宜"],
    ("price", "pos"): ["很实在", "性价比很高", "很低", "比油车省太多"],
}  # fmt: skip
# Negation across polarity: a positive aspect word negated reads negative, and vice versa.
NEGATED = {
    ("range", "neg"): ["续航不太行", "续航没有宣传的那么好"],
    ("range", "pos"): ["续航并不差", "续航没有想象中那么焦虑"],
    ("charging", "neg"): ["充电不太方便", "充电没那么省心"],
    ("charging", "pos"): ["充电并不麻烦", "充电没想象中难"],
    ("service", "neg"): ["售后不怎么样", "服务不太满意"],
    ("service", "pos"): ["售后并不差", "服务没什么可挑剔的"],
    ("infotainment", "neg"): ["车机不太流畅", "App不怎么好用"],
    ("infotainment", "pos"): ["车机并不卡", "App没出过问题"],
    ("ota", "neg"): ["OTA不太靠谱", "智驾不太敢用"],
    ("ota", "pos"): ["OTA并没有bug", "智驾没让人失望"],
    ("price", "neg"): ["价格不太厚道", "不怎么保值"],
    ("price", "pos"): ["价格并不贵", "养车没什么负担"],
}  # fmt: skip
INTENSIFIERS = ["", "", "", "真的", "非常", "特别", "太"]
OPENERS = {"neg": ["", "", "说实话，", "吐槽一下，", "有点失望，"],
           "pos": ["", "", "总体来说，", "推荐，", "很满意，"]}  # fmt: skip
CLOSERS = {"neg": ["。", "！", "。希望改进", "😡", "😭", "，不推荐"],
           "pos": ["。", "！", "👍", "🙂", "，nice", "，点赞"]}  # fmt: skip
FILLERS = ["开了半年", "平时通勤用", "周末带娃出去", "提车三个月", "跑了一万公里"]
TYPOS = {"续航": "续行", "车机": "车鸡", "充电": "冲电", "售后": "受后"}
TYPO_SHARE = 0.05
SURNAMES = list("王李张刘陈杨黄赵周吴")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰涛明超")
PLATE_PREFIX = list("京沪粤苏浙川渝鄂")
PII_KINDS = ("phone", "id_number", "plate", "name")
COMMENT_COLUMNS = ("comment_id", "customer_id", "ts", "source", "text")
COMMENT_TRUTH_COLUMNS = ("comment_id", "sentiment", "aspect", "second_aspect", "pii")


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _clause(rng: np.random.Generator, aspect: str, polarity: str) -> str:
    if rng.random() < 0.25:
        return _pick(rng, NEGATED[(aspect, polarity)])
    predicate = _pick(rng, PREDICATES[(aspect, polarity)])
    boost = _pick(rng, INTENSIFIERS)
    if boost and predicate.startswith("很"):
        predicate = boost + predicate[1:]
    return _pick(rng, SUBJECTS[aspect]) + predicate


def _pii(rng: np.random.Generator) -> tuple[str, str]:
    kind = PII_KINDS[int(rng.integers(len(PII_KINDS)))]
    if kind == "phone":
        number = f"1{rng.integers(3, 10)}{rng.integers(0, 10**9):09d}"
        return kind, f"有问题打我电话{number[:3]}-{number[3:7]}-{number[7:]}"
    if kind == "id_number":
        birth = f"19{rng.integers(60, 100)}{rng.integers(1, 13):02d}{rng.integers(1, 29):02d}"
        return kind, f"身份证号110101{birth}{rng.integers(0, 1000):03d}X"
    if kind == "plate":
        letters = "ABCDEFGHJK"
        return (
            kind,
            f"车牌{_pick(rng, PLATE_PREFIX)}{_pick(rng, list(letters))}D{rng.integers(10**4):04d}",
        )
    return kind, f"我是车主{_pick(rng, SURNAMES)}{_pick(rng, GIVEN)}"


def write_comment(
    rng: np.random.Generator, aspect: str, second: str | None, polarity: str, pii: bool
) -> tuple[str, str]:
    """One comment's text and the kind of planted personal data ('' when none)."""
    parts = [_clause(rng, aspect, polarity)]
    if rng.random() < 0.3:
        parts.insert(0, _pick(rng, FILLERS))
    if second is not None:
        parts.append(_clause(rng, second, polarity if rng.random() < 0.8 else
                             ("pos" if polarity == "neg" else "neg")))  # fmt: skip
    kind = ""
    if pii:
        kind, text = _pii(rng)
        parts.append(text)
    body = _pick(rng, OPENERS[polarity]) + "，".join(parts) + _pick(rng, CLOSERS[polarity])
    if rng.random() < TYPO_SHARE:
        for right, wrong in TYPOS.items():
            if right in body:
                body = body.replace(right, wrong, 1)
                break
    return body, kind


def draw_comments(
    seed: int, ids: np.ndarray, cust: Customers, jour: Journeys, owners: Owners, window: Window
) -> tuple[pa.Table, pa.Table]:
    """The comments table (raw: text may hold planted personal data) and its truth."""
    rng = np.random.default_rng((seed, VOICE_RNG_TAG))
    rows = owners.rows
    start = jour.delivery_time[rows] + 1
    end = np.where(np.isnan(owners.churn_day), window.days, owners.churn_day)
    years = np.maximum(end - start, 0) / DAYS_PER_YEAR
    counts = rng.poisson(COMMENTS_PER_YEAR * years)
    owner = np.repeat(np.arange(len(rows)), counts)
    day = start[owner] + rng.random(len(owner)) * (end - start)[owner]
    persona = cust.persona[rows][owner]
    winter = is_winter(window.epoch_days(window.days + 1)[np.minimum(day.astype(int), window.days)])
    z_wait = np.log(owners.wait_mean / owners.wait_mean.mean()) / 0.35
    weights = ASPECT_WEIGHTS[persona].copy()
    shocked = owners.range_shock[owner] & winter
    weights[:, ASPECTS.index("range")] *= np.where(shocked, RANGE_SHOCK_WINTER_FACTOR, 1.0)
    weights[:, ASPECTS.index("service")] *= 1 + WAIT_FACTOR * np.maximum(z_wait[owner], 0)
    weights /= weights.sum(axis=1, keepdims=True)
    cum = weights.cumsum(axis=1)
    aspect = (rng.random(len(owner))[:, None] > cum).sum(axis=1).clip(0, len(ASPECTS) - 1)
    logit = (NEGATIVE_BASE + NEGATIVE_SATISFACTION * owners.satisfaction[owner]
             + NEGATIVE_RANGE_SHOCK * (shocked & (aspect == ASPECTS.index("range")))
             + NEGATIVE_WAIT * z_wait[owner] * (aspect == ASPECTS.index("service")))  # fmt: skip
    negative = rng.random(len(owner)) < 1 / (1 + np.exp(-logit))
    second = np.where(rng.random(len(owner)) < SECOND_ASPECT_SHARE,
                      rng.integers(0, len(ASPECTS), len(owner)), -1)  # fmt: skip
    second = np.where(second == aspect, -1, second)
    pii = rng.random(len(owner)) < PII_SHARE
    source = rng.choice(len(SOURCES), size=len(owner), p=SOURCE_SHARES)
    texts, kinds = [], []
    for k in range(len(owner)):
        text, kind = write_comment(rng, ASPECTS[aspect[k]],
                                   ASPECTS[second[k]] if second[k] >= 0 else None,
                                   "neg" if negative[k] else "pos", bool(pii[k]))  # fmt: skip
        texts.append(text)
        kinds.append(kind)
    seconds = np.floor(day * 86_400).astype("int64")
    ts = (window.start + pd.to_timedelta(seconds, unit="s")).astype("datetime64[us]")
    order = np.lexsort((seconds, owner))
    comment_ids = np.array([f"M{i + 1:08d}" for i in range(len(owner))], dtype=object)
    comments = pd.DataFrame({
        "comment_id": comment_ids, "customer_id": ids[rows][owner][order],
        "ts": np.asarray(ts)[order], "source": np.asarray(SOURCES, dtype=object)[source[order]],
        "text": np.asarray(texts, dtype=object)[order]})  # fmt: skip
    truth = pd.DataFrame({
        "comment_id": comment_ids,
        "sentiment": np.where(negative[order], "negative", "positive").astype(object),
        "aspect": np.asarray(ASPECTS, dtype=object)[aspect[order]],
        "second_aspect": np.array([ASPECTS[s] if s >= 0 else "" for s in second[order]],
                                  dtype=object),
        "pii": np.asarray(kinds, dtype=object)[order]})  # fmt: skip
    comment_schema = pa.schema([("comment_id", pa.string()), ("customer_id", pa.string()),
                                ("ts", pa.timestamp("us")), ("source", pa.string()),
                                ("text", pa.string())])  # fmt: skip
    truth_schema = pa.schema([(c, pa.string()) for c in COMMENT_TRUTH_COLUMNS])
    return (pa.Table.from_pandas(comments, schema=comment_schema, preserve_index=False),
            pa.Table.from_pandas(truth, schema=truth_schema, preserve_index=False))  # fmt: skip


__all__ = ["ASPECTS", "ASPECT_GLOSS", "draw_comments", "write_comment"]
