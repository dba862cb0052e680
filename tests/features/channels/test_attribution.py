"""Path attribution against hand-computed cases: journeys, rules, Markov removal effects,
Shapley values over channel sets, the per-segment table and the conversion-path table."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from features.channels import attribution as attr


def journeys(
    *rows: tuple[tuple[str, ...], int] | tuple[tuple[str, ...], int, tuple],
) -> pd.DataFrame:
    """Paths frame from (path, converted[, days_before]); days default to 0 for every touch."""
    return pd.DataFrame({
        "customer_id": range(len(rows)),
        "path": [r[0] for r in rows],
        "days_before": [r[2] if len(r) > 2 else (0.0,) * len(r[0]) for r in rows],
        "converted": [r[1] for r in rows],
        "n_touches": [len(r[0]) for r in rows],
    })  # fmt: skip


@pytest.fixture
def rules_paths() -> pd.DataFrame:
    return journeys(
        (("A", "B", "C"), 1, (10.0, 5.0, 0.0)),
        (("B",), 1, (0.0,)),
        (("A", "C"), 1, (3.0, 0.0)),
        (("C", "A", "D"), 0, (2.0, 1.0, 0.0)),  # does not convert: no rule credits it
    )


# --- build_paths ----------------------------------------------------------------------------


def _log() -> tuple[pd.DataFrame, pd.DataFrame]:
    t = pd.Timestamp
    touches = pd.DataFrame(
        [
            (1, t("2024-01-25"), "C"),  # after the conversion: dropped
            (1, t("2024-01-20"), "B"),  # 1 day before
            (1, t("2024-01-01"), "A"),  # 20 days before: outside 14 days
            (1, t("2024-01-10 12:00"), "D"),  # 10.5 days before
            (1, t("2024-01-07"), "E"),  # exactly 14 days before: kept
            (2, t("2024-03-05"), "C"),  # non-converter: the journey ends at its last touch
            (2, t("2024-01-01"), "A"),  # 64 days before that end: dropped
            (2, t("2024-03-01"), "B"),
            (3, t("2024-02-10"), "A"),  # converter whose only touch is after the conversion
            (4, t("2024-02-03"), "T"),  # converter without a conversion time: ends at T
            (4, t("2024-02-01"), "S"),
            (6, t("2024-02-01"), "A"),  # not in outcomes: ignored
            (2, pd.NaT, "A"),  # no time: ignored
        ],
        columns=["customer_id", "ts", "channel"],
    )
    outcomes = pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 5],
        "converted": [True, False, True, True, True],
        "conversion_ts": [t("2024-01-21"), pd.NaT, t("2024-02-01"), pd.NaT, t("2024-02-01")],
        "segment": ["family", "tech", "tech", "family", "tech"],
    })  # fmt: skip
    return touches, outcomes


def test_build_paths_keeps_the_lookback_window_and_drops_touches_after_conversion():
    touches, outcomes = _log()
    paths = attr.build_paths(touches, outcomes, lookback_days=14)
    assert list(paths.columns) == [
        "customer_id", "path", "days_before", "converted", "n_touches", "segment"
    ]  # fmt: skip
    assert paths["customer_id"].tolist() == [1, 2, 4]
    assert paths["path"].tolist() == [("E", "D", "B"), ("B", "C"), ("S", "T")]
    assert paths["days_before"].tolist() == [(14.0, 10.5, 1.0), (4.0, 0.0), (2.0, 0.0)]
    assert paths["converted"].tolist() == [1, 0, 1]
    assert paths["n_touches"].tolist() == [3, 2, 2]
    assert paths["segment"].tolist() == ["family", "tech", "family"]
    # customer 3 (touch after conversion) and 5 (no touch at all) cannot be credited
    assert attr.unattributed_conversions(outcomes, paths) == 2


def test_build_paths_lookback_of_one_day_and_without_optional_columns():
    touches, outcomes = _log()
    paths = attr.build_paths(touches, outcomes[["customer_id", "converted"]], lookback_days=1)
    assert "segment" not in paths.columns
    # without conversion_ts every journey ends at its last touch, so C (25 Jan) ends customer 1's
    assert paths["path"].tolist() == [("C",), ("C",), ("A",), ("T",)]
    assert paths["customer_id"].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("drop_from", "column"),
    [("touches", "customer_id"), ("touches", "ts"), ("touches", "channel"),
     ("outcomes", "customer_id"), ("outcomes", "converted")],
)  # fmt: skip
def test_build_paths_names_a_missing_column(drop_from, column):
    touches, outcomes = _log()
    frames = {"touches": touches, "outcomes": outcomes}
    frames[drop_from] = frames[drop_from].drop(columns=column)
    with pytest.raises(ValueError, match=f"{drop_from}: required column '{column}' is missing"):
        attr.build_paths(frames["touches"], frames["outcomes"], lookback_days=30)


def test_build_paths_refuses_a_short_lookback_and_non_datetime_times():
    touches, outcomes = _log()
    with pytest.raises(ValueError, match="lookback_days must be at least 1, got 0"):
        attr.build_paths(touches, outcomes, lookback_days=0)
    with pytest.raises(ValueError, match="'ts' must be datetime64"):
        attr.build_paths(touches.assign(ts=touches["ts"].astype(str)), outcomes, lookback_days=5)


def test_paths_without_their_columns_are_refused():
    with pytest.raises(ValueError, match="paths: required column 'segment' is missing"):
        attr.attribute_by_segment(journeys((("A",), 1)))
    with pytest.raises(ValueError, match="paths: required column 'converted' is missing"):
        attr.rule_based(pd.DataFrame({"path": [("A",)]}), "linear")


# --- rule-based credit ----------------------------------------------------------------------


def test_first_last_and_linear_touch(rules_paths):
    def credit(method):
        return attr.rule_based(rules_paths, method).to_dict()

    assert credit("first_touch") == {"A": 2.0, "B": 1.0, "C": 0.0, "D": 0.0}
    assert credit("last_touch") == {"A": 0.0, "B": 1.0, "C": 2.0, "D": 0.0}
    # A: 1/3 (A>B>C) + 1/2 (A>C); B: 1/3 + 1 (B alone); C: 1/3 + 1/2
    assert credit("linear") == pytest.approx({"A": 5 / 6, "B": 4 / 3, "C": 5 / 6, "D": 0.0})


def test_time_decay_halves_the_weight_every_half_life(rules_paths):
    credit = attr.rule_based(rules_paths, "time_decay", half_life_days=5.0)
    # A>B>C at 10, 5, 0 days: weights 1/4, 1/2, 1 of 7/4; A>C at 3, 0 days: w = 2**-0.6 and 1
    w = 2**-0.6
    expected = {"A": 1 / 7 + w / (1 + w), "B": 2 / 7 + 1.0, "C": 4 / 7 + 1 / (1 + w), "D": 0.0}
    assert credit.to_dict() == pytest.approx(expected)
    assert credit.name == "time_decay" and credit.index.name == "channel"


def test_position_based_40_20_40(rules_paths):
    credit = attr.rule_based(rules_paths, "position_based")
    # A>B>C: .4 .2 .4; B alone: 1; A>C: .5 .5
    assert credit.to_dict() == pytest.approx({"A": 0.9, "B": 1.2, "C": 0.9, "D": 0.0})
    four = attr.rule_based(journeys((("A", "B", "B", "A"), 1)), "position_based")
    assert four.to_dict() == pytest.approx({"A": 0.8, "B": 0.2})  # middle .2 split over two
    custom = attr.rule_based(
        journeys((("A", "B"), 1), (("A", "B", "C"), 1)),
        "position_based",
        position_weights=(0.3, 0.4, 0.3),
    )
    assert custom.to_dict() == pytest.approx({"A": 0.5 + 0.3, "B": 0.5 + 0.4, "C": 0.3})


def test_rule_based_refuses_bad_arguments(rules_paths):
    with pytest.raises(ValueError, match="unknown rule-based method 'markov'"):
        attr.rule_based(rules_paths, "markov")
    with pytest.raises(ValueError, match="half_life_days must be positive"):
        attr.rule_based(rules_paths, "time_decay", half_life_days=0)
    with pytest.raises(ValueError, match="position_weights"):
        attr.rule_based(rules_paths, "position_based", position_weights=(0.5, 0.5, 0.5))


# --- Markov chain ---------------------------------------------------------------------------


def test_markov_removal_effects_by_hand():
    paths = journeys((("A", "B"), 1), (("A",), 0), (("B",), 1))
    # start->A 2/3, start->B 1/3; A->B 1/2, A->null 1/2; B->conversion 1.
    # P(conv) = 2/3 * 1/2 + 1/3 = 2/3.
    # Without A: start->A goes to null, P = 1/3, effect 1 - (1/3)/(2/3) = 1/2.
    # Without B: every conversion passes through B, P = 0, effect 1.
    # Credit: 2 conversions split 1/2 : 1 -> A 2/3, B 4/3.
    assert attr.removal_effects(paths).to_dict() == pytest.approx({"A": 0.5, "B": 1.0})
    assert attr.markov_removal(paths).to_dict() == pytest.approx({"A": 2 / 3, "B": 4 / 3})
    transitions = attr.markov_transitions(paths)
    got = {(f, t): p for f, t, p in transitions.itertuples(index=False)}
    assert got == pytest.approx({
        ("(start)", "A"): 2 / 3, ("(start)", "B"): 1 / 3,
        ("A", "B"): 0.5, ("A", "(null)"): 0.5, ("B", "(conversion)"): 1.0,
    })  # fmt: skip


def test_markov_repeated_touches_do_not_change_the_removal_effects():
    once = journeys((("A", "B"), 1), (("A",), 0), (("B",), 1))
    repeated = journeys((("A", "A", "B"), 1), (("A", "A"), 0), (("B", "B", "B"), 1))
    pd.testing.assert_series_equal(attr.removal_effects(repeated), attr.removal_effects(once))


def test_markov_without_conversions_gives_zero():
    paths = journeys((("A", "B"), 0), (("B",), 0))
    assert attr.markov_removal(paths).to_dict() == {"A": 0.0, "B": 0.0}


# --- Shapley --------------------------------------------------------------------------------


def test_shapley_two_channels_by_hand():
    paths = journeys((("A",), 1), (("A", "A"), 1), (("B", "A"), 1), (("B",), 1), (("B",), 0))
    # v({A}) = 2 (A, A>A), v({B}) = 1, v({A,B}) = 4.
    # A: 1/2 (v(A) - 0) + 1/2 (v(AB) - v(B)) = 1/2 * 2 + 1/2 * 3 = 2.5; B: 1/2 * 1 + 1/2 * 2 = 1.5
    credit = attr.shapley(paths)
    assert credit.to_dict() == pytest.approx({"A": 2.5, "B": 1.5})
    assert credit.sum() == pytest.approx(4.0)


def test_shapley_matches_its_closed_form_on_random_journeys():
    # v(S) is a sum of unanimity games over the observed sets T, so each channel of a converting
    # journey's set T gets 1/|T| of it: the enumeration must reproduce that exactly.
    rng = np.random.default_rng(7)
    channels = list("ABCDEFG")
    rows = [(tuple(rng.choice(channels, size=rng.integers(1, 6))), int(rng.random() < 0.4))
            for _ in range(400)]  # fmt: skip
    paths = journeys(*rows)
    expected = dict.fromkeys(channels, 0.0)
    for path, converted in rows:
        for channel in set(path):
            expected[channel] += converted / len(set(path))
    credit = attr.shapley(paths)
    assert credit.to_dict() == pytest.approx(expected, abs=1e-9)
    assert credit.sum() == pytest.approx(sum(c for _, c in rows))


def test_shapley_enumeration_matches_the_permutation_definition():
    n = 4
    rng = np.random.default_rng(3)
    value = rng.normal(size=1 << n)
    value[0] = 0.0
    expected = np.zeros(n)
    for order in itertools.permutations(range(n)):
        mask = 0
        for player in order:
            expected[player] += value[mask | (1 << player)] - value[mask]
            mask |= 1 << player
    expected /= math.factorial(n)
    np.testing.assert_allclose(attr._shapley_from_game(value, n), expected, atol=1e-12)


def test_shapley_refuses_more_than_15_converting_channels_but_ignores_null_players():
    many = journeys(*[((f"c{i:02d}",), 1) for i in range(16)])
    with pytest.raises(ValueError, match="16 channels in converting journeys"):
        attr.shapley(many)
    fifteen = journeys(*[((f"c{i:02d}",), 1) for i in range(15)], (("idle", "c00"), 0))
    credit = attr.shapley(fifteen)
    assert credit["idle"] == 0.0
    assert credit.drop("idle").tolist() == pytest.approx([1.0] * 15)


# --- properties across methods --------------------------------------------------------------


def test_channels_with_identical_roles_get_equal_credit():
    paths = journeys(
        (("A", "B"), 1, (3.0, 0.0)), (("B", "A"), 1, (3.0, 0.0)), (("A",), 0), (("B",), 0)
    )
    credit = attr.attribute(paths)
    for method in attr.METHODS:
        assert credit.loc["A", method] == pytest.approx(credit.loc["B", method]), method
        assert credit.loc["A", method] == pytest.approx(1.0), method


def test_a_channel_never_on_a_converting_path_gets_no_markov_or_shapley_credit():
    paths = journeys((("A",), 1), (("A", "B"), 1), (("D",), 0), (("A", "D"), 0))
    # start->A 3/4, start->D 1/4; A->conv, A->B, A->D 1/3 each; B->conv 1; D->null 1.
    # P(conv) = 3/4 * 2/3 = 1/2; without A 0 (effect 1); without B 3/4 * 1/3 = 1/4 (effect 1/2);
    # without D unchanged (effect 0). Shapley: {A} 1 + {A,B} split -> A 1.5, B 0.5, D 0.
    # (Had D led on to A, Markov would credit it: removal also cuts the routes D feeds.)
    credit = attr.attribute(paths, methods=("markov", "shapley"))
    assert credit["markov"].to_dict() == pytest.approx({"A": 4 / 3, "B": 2 / 3, "D": 0.0})
    assert credit["shapley"].to_dict() == pytest.approx({"A": 1.5, "B": 0.5, "D": 0.0})


# --- tables ---------------------------------------------------------------------------------


def test_attribute_has_every_channel_and_method_and_sums_to_conversions(rules_paths):
    credit = attr.attribute(rules_paths, half_life_days=5.0)
    assert list(credit.columns) == list(attr.METHODS)
    assert credit.index.tolist() == ["A", "B", "C", "D"] and credit.index.name == "channel"
    np.testing.assert_allclose(credit.sum().to_numpy(), 3.0)
    assert credit.loc["D", "first_touch"] == 0.0
    assert (
        credit["time_decay"].to_dict() == attr.rule_based(rules_paths, "time_decay", 5.0).to_dict()
    )
    shares = attr.credit_shares(credit)
    np.testing.assert_allclose(shares.sum().to_numpy(), 1.0)
    assert shares.loc["A", "first_touch"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="unknown attribution methods"):
        attr.attribute(rules_paths, methods=("linear", "u_shaped"))


def test_credit_shares_leave_an_empty_column_undefined():
    shares = attr.credit_shares(pd.DataFrame({"x": [1.0, 3.0], "y": [0.0, 0.0]}))
    assert shares["x"].tolist() == [0.25, 0.75] and shares["y"].isna().all()


def test_attribute_by_segment_attributes_each_segment_on_its_own(rules_paths):
    paths = rules_paths.assign(segment=["s1", "s2", "s1", "s2"])
    table = attr.attribute_by_segment(paths, methods=("last_touch", "markov"))
    assert list(table.columns) == ["segment", "channel", "method", "credit"]
    assert len(table) == 2 * 4 * 2  # segments x channels seen overall x methods
    wide = table.set_index(["segment", "channel", "method"])["credit"]
    assert wide["s1"].xs("last_touch", level="method").to_dict() == {
        "A": 0.0, "B": 0.0, "C": 2.0, "D": 0.0
    }  # fmt: skip
    assert wide["s2"].xs("last_touch", level="method").to_dict() == {
        "A": 0.0, "B": 1.0, "C": 0.0, "D": 0.0
    }  # fmt: skip
    s1 = attr.markov_removal(paths[paths["segment"] == "s1"])
    assert wide["s1"].xs("markov", level="method")[s1.index].tolist() == pytest.approx(s1.tolist())
    assert table.groupby("segment")["credit"].sum().to_dict() == {"s1": 4.0, "s2": 2.0}


def test_path_table():
    paths = journeys(
        (("search", "short_video", "store_walk_in"), 1),
        (("search", "short_video", "store_walk_in"), 1),
        (("search", "short_video", "store_walk_in"), 0),
        (("referral",), 1),
        (("search",), 0),
        (("search",), 0),
        (("event",), 1),
    )
    table = attr.path_table(paths)
    assert list(table.columns) == [
        "path", "journeys", "conversions", "conversion_rate", "share_of_conversions"
    ]  # fmt: skip
    assert table["path"].tolist() == [
        "search > short_video > store_walk_in", "event", "referral", "search"
    ]  # fmt: skip
    assert table["journeys"].tolist() == [3, 1, 1, 2]
    assert table["conversions"].tolist() == [2, 1, 1, 0]
    assert table["conversion_rate"].tolist() == pytest.approx([2 / 3, 1.0, 1.0, 0.0])
    assert table["share_of_conversions"].tolist() == pytest.approx([0.5, 0.25, 0.25, 0.0])
    assert attr.path_table(paths, top=2)["path"].tolist() == [
        "search > short_video > store_walk_in", "event"
    ]  # fmt: skip
