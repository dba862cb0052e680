"""The scrubber removes planted personal data; segmentation keeps car-owner words whole."""

from __future__ import annotations

import pytest

from features.voice.text import gloss, scrub, scrub_all, segment


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        ("有问题打我电话138-1234-5678，谢谢", "phone", "5678"),
        ("电话 +86 139 1234 5678 随时联系", "phone", "139"),
        ("联系13912345678", "phone", "13912345678"),
        ("身份证号11010119900101123X已提交", "id_number", "11010119900101123X"),
        ("身份证110101199001011234", "id_number", "110101199001011234"),
        ("车牌京AD1234停在门口", "plate", "AD1234"),
        ("我是车主王伟，售后等了好几天", "name", "王伟"),
        ("联系人李娜", "name", "李娜"),
        ("服务顾问很专业，张强帮了大忙", "name", "张强"),
    ],
)
def test_planted_personal_data_is_removed(text: str, kind: str, secret: str) -> None:
    clean, found = scrub(text)
    assert secret not in clean
    assert kind in found


@pytest.mark.parametrize("text", ["续航很扎实，车机并不卡", "快充要排队半小时😡", "OTA升级后有异响",
                                  "保养很快，4S店服务很贴心"])  # fmt: skip
def test_ordinary_comments_are_left_alone(text: str) -> None:
    assert scrub(text) == (text, [])


def test_scrub_all_counts_each_kind() -> None:
    clean, counts = scrub_all(["电话13812345678", "车牌沪BD5678", "很好"])
    assert clean[2] == "很好" and counts["phone"] == 1 and counts["plate"] == 1


def test_segmentation_keeps_owner_words_and_drops_punctuation() -> None:
    words = segment("冬天续航掉得厉害，车机经常死机，充电桩太难找😡 OTA升级后有异响")
    for word in ("续航", "车机", "充电桩", "OTA", "异响"):
        assert word in words
    assert "，" not in words and "😡" not in words
    assert gloss(["续航", "充电桩", "未知词"]) == "range, charger"
