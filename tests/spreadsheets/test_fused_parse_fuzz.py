"""Random sheets parsed from calamine's raw rows, from its rows as read and by our reader give the same rows,
errors and kept rows."""

import random

import pytest

from tests.spreadsheets.helpers import workbook
from tests.spreadsheets.test_fused_parse import COLUMNS, STYLES, header, parsed, row

TEXTS = [
    "P-1",
    " P-1 ",
    "P-1\t",
    "",
    "  ",
    "\u3000",
    "1",
    "1.0",
    "0",
    "2022-01-01",
    "2022/1/1 00:00",
    "实施中",
    "in_progress",
    "abc",
    "TRUE",
    "12.5",
    " 12.5 ",
    "1e3",
    "x" * 60,
    "y" * 250,
    "BJ-1",
    "A01",
    "653200",
]
NUMBERS = [
    0,
    1,
    1.0,
    0.0,
    2.5,
    7,
    7.0,
    12.345678,
    0.1,
    123456,
    3.0000001,
    0.000001,
    99999.999999,
    44805,
    44805.0,
    2,
    2.0,
    1.5,
]
DATES = [
    ("date", 44805),
    ("date", 44805.5),
    ("datetime", 44805.25),
    ("datetime", 44805),
    ("date", 1),
    ("date", 60),
    ("date", 61),
    ("date", 0.5),
    ("datetime", 0.5),
    ("date", 2.0),
    ("date", 1.0),
]
XMLS = [
    ("xml", "><f>1+1</f>"),
    ("xml", "><f>1+1</f><v></v>"),
    ("xml", ' t="str"><f>A1</f><v>abc</v>'),
    ("xml", ' t="str"><f>A1</f><v></v>'),
    ("xml", ' t="str"><f>A1</f><v>  </v>'),
    ("xml", ' t="e"><v>#N/A</v>'),
    ("xml", ' t="e"><f>1/0</f><v>#DIV/0!</v>'),
    ("xml", ' t="e"></c><c r="Z99" t="e"'),  # harmless noise, skipped below
    ("xml", "><f>2*3</f><v>6</v>"),
    ("xml", ' t="b"><f>TRUE()</f><v>1</v>'),
]


def random_cell(rng):
    kind = rng.random()
    if kind < 0.2:
        return None
    if kind < 0.45:
        return rng.choice(TEXTS)
    if kind < 0.7:
        return rng.choice(NUMBERS)
    if kind < 0.8:
        return rng.choice([True, False])
    if kind < 0.93:
        return rng.choice(DATES)
    choice = rng.choice(XMLS)
    return None if "Z99" in choice[1] else choice


@pytest.mark.parametrize("seed", range(300))
def test_random_sheets_parse_alike(seed):
    rng = random.Random(seed)
    rows = []
    good = ["P-1", "项目", "BJ-1", "A01", "653200", "实施中", 12.5, 100, ("date", 44805), ("date", 44900)]
    for n in range(2, 2 + rng.randint(5, 60)):
        if rng.random() < 0.5:
            cells = list(good)
            for _ in range(rng.randint(1, 3)):
                cells[rng.randrange(10)] = random_cell(rng)
            cells[0] = rng.choice([f"P-{n}", f"P-{n % 7}", cells[0]])
        else:
            cells = [random_cell(rng) for _ in range(10)]
        rows.append(row(n, cells))
    data = workbook([("项目", header(COLUMNS) + "".join(rows))], styles=STYLES)
    keep = rng.choice([0, 3, 100])
    fused = parsed(data, keep=keep)
    as_read = parsed(data, keep=keep, raw_rows=False)
    ours = parsed(data, fast=False, keep=keep)
    assert fused[:3] == as_read[:3]
    assert fused[3] == as_read[3] is False or fused[3]
    assert fused[0] == ours[0]
    # our reader reads <v>1.0</v> as 1.0 where calamine's 1.0 is given as 1: an error names "1.0" or "1"
    assert _plain(fused[1]) == _plain(ours[1])


def _plain(errors):
    return [{**e, "value": e["value"][:-2] if str(e["value"]).endswith(".0") else e["value"]} for e in errors]
