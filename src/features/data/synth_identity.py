"""Synthetic person records: the same people in several channels' exports, with the noise of
real ones, and the truth of who is who (evaluation only).

The people are the customers of a synthetic dataset (``features.data.synth``): each keeps
the name, phone, gender, age and city of the customers table and gains a birth date, an
18-digit ID-card number (with its check digit), an address and a postcode. Each person
appears in one to four of six channels (``CHANNELS``); a few register twice in the same
channel. What each channel collects follows its form (``CHANNEL_FIELDS``: an app sign-up asks
for a phone and a name, the dealer CRM for the ID card and the address).

Noise planted per record: traditional or homophone characters in the name, the name written
in pinyin (sometimes given name first), a wrong character, phones written ``+86 138 1234
5678`` / ``138-1234-5678`` / ``86-13812345678`` or with a mistyped digit, the person's second
phone, a household's shared phone (a spouse's records carrying the other's number), cities
with or without 市 or in pinyin, address typos and abbreviations, birth dates in three
formats, a mistyped ID-card digit, blank fields. Look-alikes come naturally (forty common
surnames, common given names, the same districts) and on purpose: some people get a
namesake in the same city.

Calibration: the share of people whose same field is collected by two channels lands near
the plans' 42.6% "asked again for information already given" (``../shared/SEED_FACTS.md``).

May import numpy, pandas, pyarrow, the foundation modules and ``features.data.synth`` (the
name alphabets).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.data.synth import FEMALE_CHARS, MALE_CHARS

CHANNELS = ("app", "mini_program", "store_visit", "dealer_crm", "wecom", "event_signup")
CHANNEL_WEIGHTS = np.array([0.33, 0.16, 0.2, 0.11, 0.12, 0.08])
# channels per person: 1, 2, 3 or 4 (calibrates the "asked twice" share near 42.6%)
CHANNEL_COUNT_PROBS = np.array([0.585, 0.28, 0.1, 0.035])
REPEAT_SHARE = 0.05  # people who register twice in one channel
HOUSEHOLD_SHARE = 0.08  # people paired into a two-person household (shared address, phone)
HOUSEHOLD_PHONE_USE = 0.25  # share of a partner's records that carry the other's phone
NAMESAKE_SHARE = 0.03  # people given a different person's name in the same city
SECOND_PHONE_SHARE = 0.15  # people with a second phone ...
SECOND_PHONE_USE = 0.1  # ... used on this share of their records

# Fields each channel's form collects (the columns of its export).
CHANNEL_FIELDS = {
    "app": ("name", "phone", "city"),
    "mini_program": ("name", "phone"),
    "store_visit": ("name", "phone", "city", "address"),
    "dealer_crm": ("name", "phone", "birth_date", "id_number", "address", "city", "postcode"),
    "wecom": ("name", "phone"),
    "event_signup": ("name", "phone", "city"),
}
# Share of a collected field left blank, by field.
BLANK_SHARE = {"name": 0.01, "phone": 0.02, "city": 0.05, "address": 0.15, "birth_date": 0.1,
               "id_number": 0.05, "postcode": 0.2}  # fmt: skip
PERSON_FIELDS = ("name", "phone", "birth_date", "id_number", "address", "city", "postcode")

TRADITIONAL = dict(zip(
    "张刘陈杨黄赵吴郑梁谢韩冯邓苏叶罗许马孙伟强军涛辉鹏华飞凯帅龙阳静丽艳红兰凤洁云莲荣颖宁浩",
    "張劉陳楊黃趙吳鄭梁謝韓馮鄧蘇葉羅許馬孫偉強軍濤輝鵬華飛凱帥龍陽靜麗艷紅蘭鳳潔雲蓮榮穎寧浩",
    strict=True,
))  # fmt: skip
HOMOPHONES = dict(zip(
    "伟静丽娜敏军杰涛明华飞斌宇浩凯俊帆龙林阳成峰晨芳艳娟玲英慧雅玉萍红月兰洁云荣婷倩颖欣怡佳璐琪",
    "玮晶莉纳民君洁韬鸣桦菲彬雨昊楷骏凡隆霖洋诚锋辰方燕鹃铃瑛惠亚钰平虹悦岚杰芸蓉亭茜莹心仪嘉露琦",
    strict=True,
))  # fmt: skip
CITY_CHINESE = dict(zip(
    ("Beijing Shanghai Guangzhou Shenzhen Chengdu Hangzhou Chongqing Wuhan Xi'an Suzhou Tianjin "
     "Nanjing Changsha Zhengzhou Dongguan Qingdao Shenyang Ningbo Kunming Harbin Changchun Dalian "
     "Jinan Shijiazhuang Taiyuan Urumqi Hohhot Lanzhou Xiamen Fuzhou Nanning Foshan Hefei "
     "Nanchang Guiyang Wuxi Daqing Jilin Baoding Handan Luoyang Weifang Yantai Datong Baotou "
     "Zhuzhou Zhanjiang Liuzhou Guilin Ganzhou Mianyang Yichang Shangrao Zunyi Qujing "
     "Xiangyang").split(),
    ("北京 上海 广州 深圳 成都 杭州 重庆 武汉 西安 苏州 天津 南京 长沙 郑州 东莞 青岛 沈阳 宁波 昆明 "
     "哈尔滨 长春 大连 济南 石家庄 太原 乌鲁木齐 呼和浩特 兰州 厦门 福州 南宁 佛山 合肥 南昌 贵阳 无锡 "
     "大庆 吉林 保定 邯郸 洛阳 潍坊 烟台 大同 包头 株洲 湛江 柳州 桂林 赣州 绵阳 宜昌 上饶 遵义 曲靖 "
     "襄阳").split(),
    strict=True,
))  # fmt: skip
DISTRICTS = ("东城区", "西城区", "南山区", "福田区", "高新区", "经开区", "江北区", "城关区",
             "新华区", "滨江区", "鼓楼区", "天河区")  # fmt: skip
STREETS = ("人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "文化路", "胜利路",
           "长江路", "黄河路", "朝阳路", "光明街")  # fmt: skip


def _pinyin(text: str, rng: np.random.Generator) -> str:
    """A Chinese name as a form filled in Latin letters: 'Wang Wei', 'WANG wei', 'Wei Wang'."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(text)
    surname, given = syllables[0], "".join(syllables[1:])
    style = rng.integers(0, 4)
    if style == 0:
        return f"{surname.capitalize()} {given.capitalize()}"
    if style == 1:
        return f"{surname.upper()} {given}"
    if style == 2:
        return f"{given.capitalize()} {surname.capitalize()}"  # given name first
    return f"{surname}{given}"


def _noisy_name(name: str, rng: np.random.Generator) -> str:
    u = rng.random()
    if u < 0.12:  # traditional characters
        return "".join(TRADITIONAL.get(c, c) for c in name)
    if u < 0.2:  # a homophone for one given-name character
        i = 1 + rng.integers(0, len(name) - 1)
        return name[:i] + HOMOPHONES.get(name[i], name[i]) + name[i + 1 :]
    if u < 0.215:  # a wrong character
        i = 1 + rng.integers(0, len(name) - 1)
        pool = MALE_CHARS + FEMALE_CHARS
        return name[:i] + pool[rng.integers(0, len(pool))] + name[i + 1 :]
    if u < 0.235:
        return f" {name} "
    return name


def _noisy_phone(phone: str, rng: np.random.Generator) -> str:
    u = rng.random()
    if u < 0.02:  # one mistyped digit
        i = 3 + rng.integers(0, 8)
        phone = phone[:i] + str((int(phone[i]) + 1 + rng.integers(0, 9)) % 10) + phone[i + 1 :]
    style = rng.integers(0, 10)
    if style == 0:
        return f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
    if style == 1:
        return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    if style == 2:
        return f"86-{phone}"
    if style == 3:
        return f"+86{phone}"
    return phone


def _noisy_city(city: str, rng: np.random.Generator, channel: str) -> str:
    from pypinyin import lazy_pinyin

    u = rng.random()
    if u < 0.35:
        return f"{city}市"
    if u < 0.45 or (channel == "app" and u < 0.6):
        return "".join(lazy_pinyin(city)).capitalize()  # 'Xian' where the table says "Xi'an"
    if u < 0.48:  # a typo: a character dropped or doubled
        return city[:1] + city if len(city) < 3 else city[:-1]
    return city


def _noisy_address(address: str, rng: np.random.Generator) -> str:
    u = rng.random()
    if u < 0.15:  # no building and room
        return address.split("号")[0] + "号"
    if u < 0.25:  # district left out
        for d in DISTRICTS:
            address = address.replace(d, "")
        return address
    if u < 0.3:  # a character dropped
        i = rng.integers(0, len(address))
        return address[:i] + address[i + 1 :]
    return address


def _birth_text(day: pd.Timestamp, rng: np.random.Generator) -> str:
    style = rng.integers(0, 3)
    if style == 0:
        return f"{day:%Y-%m-%d}"
    if style == 1:
        return f"{day.year}/{day.month}/{day.day}"
    return f"{day:%Y%m%d}"


def id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a mainland ID-card number."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


def draw_people(customers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per person: the customers' name, phone and city plus drawn personal fields."""
    n = len(customers)
    people = pd.DataFrame({
        "person_id": customers["customer_id"].astype(str).to_numpy(),
        "name": customers["full_name"].astype(str).to_numpy(),
        "phone": customers["phone"].astype(str).to_numpy(),
        "city": customers["city"].astype(str).map(CITY_CHINESE).fillna(customers["city"])
        .to_numpy(),
    })  # fmt: skip
    lead_year = pd.to_datetime(customers["lead_created_at"]).dt.year.to_numpy()
    born = pd.to_datetime(
        {
            "year": lead_year - customers["age"].to_numpy(),
            "month": rng.integers(1, 13, n),
            "day": rng.integers(1, 29, n),
        }  # fmt: skip
    )
    people["birth"] = born
    city_codes = {c: i for i, c in enumerate(sorted(people["city"].unique()))}
    region = np.array([110101 + 10000 * city_codes[c] + rng.integers(0, 8) for c in people["city"]])
    seq = rng.integers(0, 1000, n)
    people["id_number"] = [
        f"{r}{d:%Y%m%d}{s:03d}" for r, d, s in zip(region, born, seq, strict=True)
    ]
    people["id_number"] = [x + id_check_digit(x) for x in people["id_number"]]
    district = rng.integers(0, len(DISTRICTS), n)
    people["address"] = [
        f"{city}{DISTRICTS[d]}{STREETS[rng.integers(0, len(STREETS))]}{rng.integers(1, 300)}号"
        f"{rng.integers(1, 30)}栋{rng.integers(1, 33)}0{rng.integers(1, 5)}室"
        for city, d in zip(people["city"], district, strict=True)
    ]
    people["postcode"] = [f"{100000 + 1000 * city_codes[c] + 10 * d:06d}"
                          for c, d in zip(people["city"], district, strict=True)]  # fmt: skip
    people["phone_2"] = np.where(rng.random(n) < SECOND_PHONE_SHARE,
                                 _other_phones(people["phone"], rng), "")  # fmt: skip
    people["household_phone"] = ""
    # households: pairs sharing an address; one partner's records may carry the other's phone
    pairs = rng.permutation(n)[: int(n * HOUSEHOLD_SHARE) // 2 * 2].reshape(-1, 2)
    for a, b in pairs:
        people.loc[people.index[b], "address"] = people.at[people.index[a], "address"]
        people.loc[people.index[b], "postcode"] = people.at[people.index[a], "postcode"]
        people.loc[people.index[b], "city"] = people.at[people.index[a], "city"]
        people.loc[people.index[b], "household_phone"] = people.at[people.index[a], "phone"]
    # namesakes: a different person with the same name in the same city
    k = int(n * NAMESAKE_SHARE)
    src, dst = rng.choice(n, k, replace=False), rng.choice(n, k, replace=False)
    keep = src != dst
    people.loc[people.index[dst[keep]], "name"] = people["name"].to_numpy()[src[keep]]
    people.loc[people.index[dst[keep]], "city"] = people["city"].to_numpy()[src[keep]]
    return people


def _other_phones(phones: pd.Series, rng: np.random.Generator) -> np.ndarray:
    from features.data.synth import fake_phones

    return fake_phones(rng, len(phones))


def draw_records(people: pd.DataFrame, rng: np.random.Generator
                 ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:  # fmt: skip
    """Each channel's export (``CHANNEL_FIELDS`` columns, with noise) and the truth:
    record_id, channel, person_id."""
    n = len(people)
    n_channels = rng.choice(len(CHANNEL_COUNT_PROBS), n, p=CHANNEL_COUNT_PROBS) + 1
    rows: dict[str, list[dict[str, str]]] = {c: [] for c in CHANNELS}
    truth = []
    for i, person in enumerate(people.itertuples(index=False)):
        channels = rng.choice(len(CHANNELS), n_channels[i], replace=False, p=CHANNEL_WEIGHTS)
        if rng.random() < REPEAT_SHARE:
            channels = np.append(channels, channels[0])
        for c in channels:
            channel = CHANNELS[c]
            rows[channel].append(_record(person, channel, rng))
            truth.append((channel, person.person_id))
    exports, ids = {}, []
    for channel in CHANNELS:
        frame = pd.DataFrame(rows[channel], columns=list(CHANNEL_FIELDS[channel]))
        order = rng.permutation(len(frame))  # exports are not sorted by person
        frame = frame.iloc[order].reset_index(drop=True)
        frame.insert(0, "record_id", [f"{channel}-{j + 1:07d}" for j in range(len(frame))])
        exports[channel] = frame
        persons = [p for ch, p in truth if ch == channel]
        ids.append(pd.DataFrame({"record_id": frame["record_id"], "channel": channel,
                                 "person_id": np.array(persons, dtype=object)[order]}))  # fmt: skip
    return exports, pd.concat(ids, ignore_index=True)


def _record(person, channel: str, rng: np.random.Generator) -> dict[str, str]:
    out: dict[str, str] = {}
    for field in CHANNEL_FIELDS[channel]:
        if rng.random() < BLANK_SHARE[field]:
            out[field] = ""
            continue
        if field == "name":
            latin = rng.random() < (0.35 if channel in ("app", "wecom") else 0.08)
            out[field] = _pinyin(person.name, rng) if latin else _noisy_name(person.name, rng)
        elif field == "phone":
            phone = person.phone
            if person.phone_2 and rng.random() < SECOND_PHONE_USE:
                phone = person.phone_2
            elif person.household_phone and rng.random() < HOUSEHOLD_PHONE_USE:
                phone = person.household_phone
            out[field] = _noisy_phone(phone, rng)
        elif field == "city":
            out[field] = _noisy_city(person.city, rng, channel)
        elif field == "address":
            out[field] = _noisy_address(person.address, rng)
        elif field == "birth_date":
            out[field] = _birth_text(person.birth, rng)
        elif field == "id_number":
            number = person.id_number
            if rng.random() < 0.02:
                i = rng.integers(6, 17)
                number = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :]
            out[field] = number
        else:
            out[field] = person.postcode
    return out


def fragment_events(events: pd.DataFrame, truth: pd.DataFrame, id_col: str = "customer_id",
                    seed: int = 0) -> pd.DataFrame:  # fmt: skip
    """The event log as separate systems export it: each event keyed by one of its person's
    records (a day's events stay on one record), not by the person. Events of people without
    records are dropped."""
    rng = np.random.default_rng(seed)
    records = truth.sort_values(["person_id", "record_id"]).reset_index(drop=True)
    first = records.groupby("person_id", sort=False).cumcount() == 0
    start = pd.Series(np.flatnonzero(first), index=records.loc[first, "person_id"].to_numpy())
    count = records.groupby("person_id", sort=False).size()
    keep = events[id_col].isin(start.index)
    ev = events.loc[keep].copy()
    owner = ev[id_col].to_numpy()
    day = pd.to_datetime(ev["ts"]).dt.floor("D").astype("int64") // 86_400_000_000_000
    salt = rng.integers(0, 2**31)
    pick = ((day.to_numpy() * 2_654_435_761 + salt) % 1_000_003) % count.reindex(owner).to_numpy()
    ev[id_col] = records["record_id"].to_numpy()[start.reindex(owner).to_numpy() + pick]
    return ev.reset_index(drop=True)


IDENTITY_GENERATOR_VERSION = "1.0.0"
IDENTITY_SEED_TAG = 19  # the records' random stream, apart from the dataset's own
TRUTH_FILE = "truth.parquet"
EVENTS_FILE = "events_by_record.parquet"


def write_identity_files(dataset: Path, folder: Path, seed: int) -> None:
    """The channels' exports, the truth and the record-keyed event log of ``dataset``."""
    from features.io import sha256_file, write_json

    rng = np.random.default_rng([seed, IDENTITY_SEED_TAG])
    customers = pd.read_parquet(dataset / "customers.parquet")
    exports, truth = draw_records(draw_people(customers, rng), rng)
    files = {}
    for channel, frame in exports.items():
        frame.to_parquet(folder / f"{channel}.parquet", index=False)
        files[f"{channel}.parquet"] = len(frame)
    truth.to_parquet(folder / TRUTH_FILE, index=False)
    events = pd.read_parquet(dataset / "events.parquet")
    fragment_events(events, truth, seed=seed).to_parquet(folder / EVENTS_FILE, index=False)
    files[TRUTH_FILE], files[EVENTS_FILE] = len(truth), len(events)
    write_json({"generator_version": IDENTITY_GENERATOR_VERSION, "dataset": dataset.name,
                "seed": seed, "rows": files,
                "sha256": {name: sha256_file(folder / name) for name in files}},
               folder / "manifest.json")  # fmt: skip
