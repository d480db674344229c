"""An amount cell Excel stores as a float is read to the same yuan, and refused with the same message, by the
digits shortcut as by Decimal arithmetic — for amounts clerks write and for any float at all."""

import random
import struct

import pytest

from aidtracker import money
from spreadsheets.cells import CellError, parse_wan

EDGES = [0.0, -0.0, 1.0, 0.5, 12.5, 14.2857, 0.000001, 0.0000001, 1e-4, 1e-5, 9999999.999999, 1e7, 1e15]
EDGES += [1234567.123456, 0.1, 0.2, 0.3, 1 / 3, 2.675, 100.005, 3e-6, float("nan"), float("inf"), -12.5]


def outcome(value):
    try:
        return parse_wan(value)
    except CellError as exc:
        return ("error", str(exc))


def by_decimal(value, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(money, "FAST_WAN", -1.0)  # no float takes the shortcut
        return outcome(value)


def floats(count=20_000, seed=8):
    rnd = random.Random(seed)
    for _ in range(count):
        kind = rnd.random()
        if kind < 0.3:
            yield round(rnd.uniform(0, 1e7), rnd.randint(0, 7))
        elif kind < 0.5:
            yield rnd.randint(0, 10**9) / 10 ** rnd.randint(0, 9)
        elif kind < 0.7:
            yield (1 + rnd.randint(0, 9973) / 7.0) * rnd.choice([1, 10_000, 0.0001])
        else:
            yield struct.unpack("d", struct.pack("Q", rnd.getrandbits(64)))[0]  # any float at all


@pytest.mark.parametrize("value", EDGES)
def test_edge_amounts_read_the_same_both_ways(value, monkeypatch):
    assert outcome(value) == by_decimal(value, monkeypatch)


def test_twenty_thousand_floats_read_the_same_both_ways(monkeypatch):
    different = [
        (v, outcome(v), by_decimal(v, monkeypatch))
        for v in floats()
        if outcome(v) != by_decimal(v, monkeypatch)
    ]
    assert different == []


def test_what_a_clerk_sees():
    assert parse_wan(12.5) == "125000.00"
    assert parse_wan(0.000001) == "0.01"
    assert parse_wan(0.0) == "0.00"
    assert outcome(0.0000001) == ("error", "金额（万元）最多保留 6 位小数。")
    assert outcome(-1.0) == ("error", "金额不能为负数。")
