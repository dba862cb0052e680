"""Person records: normalisation that makes variants meet, and refusals that name the file,
column and rule."""

from __future__ import annotations

import pandas as pd
import pytest

from features.identity import IdentityDataError, IdentityParamError, validate_identity_params
from features.identity.records import normalise_phone, read_records, split_pinyin

BASE = dict(data_source="synthetic", n_customers=1000, seed=1, record_id_col="rid",
            entity_col="", source_col="", columns={"full_name": "姓名", "phone": "手机"},
            blocking_rules=[], match_threshold=0.8, max_pairs=100_000, output_dir="",
            mlflow_tracking_uri="")  # fmt: skip


def _params(**changes):
    return validate_identity_params(**{**BASE, **changes})


def _write(tmp_path, name, frame):
    path = tmp_path / name
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return str(path)


def test_phone_formats_meet():
    phones = pd.Series(["+86 138 1234 5678", "138-1234-5678", "86-13812345678", "13812345678",
                        "008613812345678", "12", None])  # fmt: skip
    out = normalise_phone(phones)
    assert out.iloc[:5].tolist() == ["13812345678"] * 5
    assert out.iloc[5:].isna().all()


def test_pinyin_syllables():
    assert split_pinyin("liujiechen") == ["liu", "jie", "chen"]
    assert split_pinyin("smith") == ["smith"]


def test_name_variants_share_a_key(tmp_path):
    names = ["张伟", "張偉", "Zhang Wei", "Wei Zhang", "zhangwei", " 张 伟 ", "王玮"]
    path = _write(tmp_path, "a.csv", pd.DataFrame({"rid": range(len(names)), "姓名": names,
                                                   "手机": "13812345678"}))  # fmt: skip
    frame = read_records((path,), _params()).frame
    assert frame["name_key"].iloc[:6].nunique() == 1
    assert frame["name"].iloc[[0, 1, 2, 4, 5]].nunique() == 1  # pinyin in written order
    assert (
        frame["name"].iloc[6] == "wangwei"
        and frame["name_key"].iloc[6] != frame["name_key"].iloc[0]
    )
    assert frame["source"].unique().tolist() == ["a"]


def test_cities_meet(tmp_path):
    path = _write(tmp_path, "c.csv", pd.DataFrame({"rid": [1, 2, 3, 4], "姓名": "李娜",
                                                   "城市": ["上海市", "上海", "Shanghai", "西安"]}))  # fmt: skip
    frame = read_records((path,), _params(columns={"full_name": "姓名", "city": "城市"})).frame
    assert frame["city"].tolist()[:3] == ["shanghai"] * 3 and frame["city"].iloc[3] == "xian"


def test_separate_name_columns(tmp_path):
    path = _write(tmp_path, "s.csv", pd.DataFrame({"rid": [1, 2], "姓": ["张", "Zhang"],
                                                   "名": ["伟", "Wei"]}))  # fmt: skip
    frame = read_records((path,), _params(columns={"surname": "姓", "given_name": "名"})).frame
    assert frame["name"].tolist() == ["zhangwei", "zhangwei"]
    assert frame["surname"].tolist() == ["zhang", "zhang"]


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"id": [1], "姓名": ["张伟"], "手机": ["13812345678"]}), "'rid' \\(record_id_col\\) is missing"),
    (pd.DataFrame({"rid": [1, 1], "姓名": ["张伟", "李娜"], "手机": ["13812345678"] * 2}), "ids repeat"),
    (pd.DataFrame({"rid": [1, None], "姓名": ["张伟", "李娜"], "手机": ["13812345678"] * 2}), "have no id"),
    (pd.DataFrame({"rid": range(10), "姓名": "张伟", "手机": ["n/a"] * 9 + ["13812345678"]}),
     "90% of values that are no phone numbers"),
])  # fmt: skip
def test_refusals_name_file_column_and_rule(tmp_path, frame, message):
    path = _write(tmp_path, "bad.csv", frame)
    before = (tmp_path / "bad.csv").read_bytes()
    with pytest.raises(IdentityDataError, match=message) as info:
        read_records((path,), _params())
    assert "bad.csv" in str(info.value)
    assert (tmp_path / "bad.csv").read_bytes() == before  # raw data untouched


def test_refusal_masks_personal_values(tmp_path):
    phones = [f"x{i}23456" for i in range(9)] + ["13812345678"]
    path = _write(
        tmp_path, "p.csv", pd.DataFrame({"rid": range(10), "姓名": "张伟", "手机": phones})
    )
    with pytest.raises(IdentityDataError) as info:
        read_records((path,), _params())
    assert "x023456" not in str(info.value) and "x0*****" in str(info.value)


def test_same_record_id_in_two_files_of_one_source_is_refused(tmp_path):
    frame = pd.DataFrame({"rid": [1], "姓名": ["张伟"], "手机": ["13812345678"], "渠道": "app"})
    a, b = _write(tmp_path, "a.csv", frame), _write(tmp_path, "b.csv", frame)
    with pytest.raises(IdentityDataError, match="share source and record id"):
        read_records((a, b), _params(data_source=[a, b], source_col="渠道"))


@pytest.mark.parametrize(("change", "message"), [
    ({"columns": {"nickname": "x"}}, "unknown role 'nickname'"),
    ({"columns": {"city": "城市"}}, "at least one of full_name"),
    ({"columns": {"full_name": "a", "phone": "a"}}, "a column has two roles"),
    ({"blocking_rules": [["colour"]]}, "rule \\['colour'\\]"),
    ({"match_threshold": 1.5}, "match_threshold"),
    ({"data_source": []}, "a list must hold file paths"),
    ({"data_source": "no/such/file.csv"}, "no such file"),
])  # fmt: skip
def test_bad_parameters(change, message):
    with pytest.raises(IdentityParamError, match=message):
        _params(**change)
