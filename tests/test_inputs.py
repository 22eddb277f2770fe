"""annotate.inputs: untrusted scalars parsed once, bounded by what both databases store.
Pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from annotate.inputs import (
    INT32_MAX,
    INT64_MAX,
    InputError,
    check_json,
    json_problem,
    parse_bool,
    parse_datetime,
    parse_id,
    parse_ids,
    parse_int,
    parse_optional_int,
    parse_text,
    parse_version,
)


@pytest.mark.parametrize("value, expected", [("0", 0), ("42", 42), (7, 7), ("007", 7)])
def test_ascii_digits_and_json_integers_are_numbers(value, expected):
    assert parse_int(value, name="n") == expected


@pytest.mark.parametrize(
    "value",
    ["²", "١٢", "+1", " 1", "1 ", "1_000", "1e3", "1.0", "", "x", "0x10", "٣"],
)
def test_anything_but_ascii_digits_is_refused(value):
    """ "²".isdigit() is true and int("²") fails; int("١٢") is 12: neither is a number here."""
    with pytest.raises(InputError, match="whole number in digits 0-9"):
        parse_int(value, name="n")


@pytest.mark.parametrize("value", [True, False, 1.0, 1.5, None, [1], {"a": 1}, float("nan")])
def test_booleans_floats_and_containers_are_not_integers(value):
    with pytest.raises(InputError, match="must be a whole number"):
        parse_int(value, name="n")


def test_ranges_follow_the_columns():
    assert parse_version(INT32_MAX) == INT32_MAX
    assert parse_id(str(INT64_MAX), name="id") == INT64_MAX
    for too_big in (INT32_MAX + 1, 2**63, 2**64):
        with pytest.raises(InputError, match="from 0 to 2147483647"):
            parse_version(too_big)
    for bad_id in (0, -1, 2**63, 2**64, -(2**63) - 1):
        with pytest.raises(InputError, match="from 1 to"):
            parse_id(bad_id, name="id")


def test_a_thousand_digits_are_refused_before_int_reads_them():
    with pytest.raises(InputError, match="digits 0-9"):
        parse_int("9" * 1000, name="n", high=INT64_MAX)


def test_a_huge_json_integer_is_named_by_its_length():
    with pytest.raises(InputError, match="a number of 40 digits"):
        parse_int(10**39, name="n")


def test_blank_optional_integers_are_absent():
    assert parse_optional_int("", name="n") is None
    assert parse_optional_int(None, name="n") is None
    assert parse_optional_int("3", name="n") == 3


def test_id_lists_split_on_commas_trim_items_and_drop_repeats():
    assert parse_ids(["1, 2", "2", "3"], name="articles", limit=10) == [1, 2, 3]
    assert parse_ids([5, 6], name="articles", limit=10) == [5, 6]
    with pytest.raises(InputError, match="at most 2 ids"):
        parse_ids("1,2,3", name="articles", limit=2)
    with pytest.raises(InputError, match="digits 0-9"):
        parse_ids("1,²", name="articles", limit=10)
    with pytest.raises(InputError, match="list of ids"):
        parse_ids({"a": 1}, name="articles", limit=10)


@pytest.mark.parametrize("value", ["1", "true", "On", "yes", True])
def test_true_words(value):
    assert parse_bool(value, name="b") is True


@pytest.mark.parametrize("value", ["0", "false", "off", "no", "", False])
def test_false_words(value):
    assert parse_bool(value, name="b") is False


@pytest.mark.parametrize("value", ["2", "maybe", 1, None, []])
def test_other_booleans_are_refused(value):
    with pytest.raises(InputError, match="true or false"):
        parse_bool(value, name="b")


@pytest.mark.parametrize("value", ["a\x00b", "a\ud800b", "\udfff"])
def test_text_neither_database_stores_is_refused(value):
    with pytest.raises(InputError, match="NUL|surrogate"):
        parse_text(value, name="note")


def test_text_is_capped_at_its_column():
    assert parse_text("é" * 32, name="key", max_length=32) == "é" * 32
    with pytest.raises(InputError, match="longer than 32 characters"):
        parse_text("x" * 33, name="key", max_length=32)
    with pytest.raises(InputError, match="must be text"):
        parse_text(["x"], name="key")


def test_refusals_quote_what_was_sent_printably():
    with pytest.raises(InputError) as error:
        parse_int("a\x00\ud800", name="n")
    message = str(error.value)
    assert "\x00" not in message and "\ud800" not in message
    message.encode("utf-8")  # no lone surrogate in the message itself


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-03-01T14:30:00+02:00", datetime(2024, 3, 1, 12, 30, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("0001-01-01T00:00:00-05:00", datetime(1, 1, 1, 5, tzinfo=UTC)),
        ("9999-12-31T23:59:59.999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("9999-12-31T23:00:00+05:00", datetime(9999, 12, 31, 18, tzinfo=UTC)),
    ],
)
def test_dates_are_aware_and_in_utc(value, expected):
    parsed = parse_datetime(value, name="published_at")
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:59:00+01:00"],
)
def test_dates_outside_years_1_to_9999_in_utc_are_refused(value):
    with pytest.raises(InputError, match="outside the years 1 to 9999"):
        parse_datetime(value, name="published_at")


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "²", "a\x00", 20240301, [], "9" * 99])
def test_what_is_not_an_iso_date_is_refused(value):
    with pytest.raises(InputError, match="ISO 8601"):
        parse_datetime(value, name="published_at")


def test_an_empty_date_is_no_date():
    assert parse_datetime("", name="published_at") is None
    assert parse_datetime(None, name="published_at") is None


@pytest.mark.parametrize(
    "value, problem",
    [
        ({"a": "x\x00"}, "NUL"),
        ({"a\x00": 1}, "key that contains a NUL"),
        (["\ud800"], "surrogate"),
        ({"n": float("inf")}, "NaN or infinite"),
        ({"n": float("nan")}, "NaN or infinite"),
        ({"n": 2**63}, "64-bit"),
        ({"n": -(2**63) - 1}, "64-bit"),
        ({1: "a"}, "not a string"),
        ({"s": {1, 2}}, "not JSON"),
    ],
)
def test_json_the_databases_cannot_hold_is_named(value, problem):
    assert problem in json_problem(value)
    with pytest.raises(InputError, match="meta"):
        check_json(value, name="meta")


def test_json_nesting_is_capped():
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    assert "nested more than 32" in json_problem(deep)
    assert json_problem(deep, max_depth=64) is None


def test_ordinary_json_passes():
    value = {"n": [1, 2.5, -(2**63), 2**63 - 1, None, True], "s": "é ²", "o": {}}
    assert check_json(value, name="meta") is value
