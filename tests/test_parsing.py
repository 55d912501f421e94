"""Cell parsers on the ways units actually write values."""
import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.ingest.parsing import is_empty, parse_bool, parse_date, parse_money, parse_month, parse_number


@pytest.mark.parametrize("raw, expected", [
    (1234.5, 1234.5), ("1,234.5", 1234.5), ("１２３４", 1234.0), (" 56 ", 56.0), ("12.5%", 12.5),
    ("-3", -3.0), ("1,234,567", 1234567.0), (7, 7.0),
])
def test_numbers_written_as_text_are_read(raw, expected):
    assert parse_number(raw).value == expected
    assert parse_number(raw).problem is None


@pytest.mark.parametrize("raw", [None, "", "—", "-", "/", "无", "——", "－", " ", float("nan"), "N/A"])
def test_every_way_of_writing_empty_is_empty(raw):
    assert is_empty(raw)
    assert parse_number(raw) == (None, None, None)


@pytest.mark.parametrize("raw", ["约500", "500万", "1.2.3", "十二", "1,23"])
def test_text_in_number_cells_is_a_problem_not_a_guess(raw):
    parsed = parse_number(raw)
    assert parsed.value is None
    assert parsed.problem == "不是有效数字"
    assert "数字" in parsed.fix


def test_money_is_converted_to_wan_from_the_stated_unit():
    assert parse_money("1.5", "亿元").value == 15000.0
    assert parse_money(2500, None).value == 2500.0
    assert parse_money(2500, "万元").value == 2500.0
    assert parse_money("2,000,000", "元").value == pytest.approx(200.0)


@pytest.mark.parametrize("raw, expected", [
    ("是", True), ("否", False), ("√", True), ("×", False), ("已开工", True), ("未开工", False),
    ("Y", True), ("n", False), (1, True), (0.0, False), ("已入统", True), ("未入统", False),
])
def test_yes_no_in_all_its_forms(raw, expected):
    assert parse_bool(raw).value is expected


def test_yes_no_that_is_neither_is_a_problem():
    parsed = parse_bool("待定")
    assert parsed.value is None and parsed.problem == "应填“是”或“否”"


@pytest.mark.parametrize("raw, expected", [
    (dt.datetime(2021, 3, 15, 0, 0), dt.date(2021, 3, 15)), (dt.date(2021, 3, 15), dt.date(2021, 3, 15)),
    ("2021.3.15", dt.date(2021, 3, 15)), ("2021年3月15日", dt.date(2021, 3, 15)), ("2021/3/15", dt.date(2021, 3, 15)),
    ("2021-03-15", dt.date(2021, 3, 15)), ("2021/3", dt.date(2021, 3, 1)), ("2021年3月", dt.date(2021, 3, 1)),
    (44270.0, dt.date(2021, 3, 15)), ("２０２１．３．１５", dt.date(2021, 3, 15)),
])
def test_dates_in_all_their_forms(raw, expected):
    assert parse_date(raw).value == expected


@pytest.mark.parametrize("raw, problem",
                         [("2021.13.45", "日期不存在"), ("三月中旬", "不是有效日期"), (2021, "不是有效日期")])
def test_bad_dates_are_problems(raw, problem):
    parsed = parse_date(raw)
    assert parsed.value is None and parsed.problem == problem


@pytest.mark.parametrize("raw, expected", [(11, 11), ("11月", 11), ("1-11月", 11), ("2021年1-11月", 11), ("1—8月", 8),
                                           (dt.date(2021, 11, 30), 11), (11.0, 11)])
def test_months(raw, expected):
    assert parse_month(raw).value == expected


def test_month_out_of_range_is_a_problem():
    assert parse_month("13月").problem == "不是有效月份"


anything = st.one_of(st.text(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.none(),
                     st.booleans(), st.dates(), st.datetimes())


@given(anything)
def test_parsers_never_raise(raw):
    for parser in (parse_number, parse_bool, parse_date, parse_month):
        result = parser(raw)
        assert (result.value is None) or (result.problem is None)


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_numbers_round_trip(value):
    assert parse_number(repr(value)).value == value
    assert parse_number(f"{value:,.2f}").value == pytest.approx(round(value, 2))


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_dates_round_trip(day):
    for text in (f"{day.year}.{day.month}.{day.day}", f"{day.year}年{day.month}月{day.day}日", day.isoformat()):
        assert parse_date(text).value == day


def test_infinite_numbers_are_refused():
    assert parse_number(math.inf).value is None


@given(st.booleans(),
       st.sampled_from([("是", "否"), ("√", "×"), ("已开工", "未开工"), ("Y", "N"), ("已入统", "未入统")]))
def test_yes_no_round_trips(value, spelling):
    assert parse_bool(spelling[0] if value else spelling[1]).value is value


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False), st.sampled_from(["万元", "亿元", None]))
def test_money_round_trips_through_its_unit(wan, unit):
    factor = {"万元": 1, "亿元": 10_000, None: 1}[unit]
    assert parse_money(repr(wan / factor), unit).value == pytest.approx(wan)


@given(st.integers(min_value=1, max_value=12))
def test_months_round_trip(month):
    for text in (f"1-{month}月", f"{month}月", str(month), f"2021年1-{month}月"):
        assert parse_month(text).value == month
