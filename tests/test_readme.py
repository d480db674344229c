"""The README answers a newcomer's first questions, and the commands it names exist."""

import re
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)
README = (BASE / "README.md").read_text(encoding="utf-8")
MAKEFILE = (BASE / "Makefile").read_text(encoding="utf-8")


def test_the_two_commands_stay_the_two_commands():
    assert "make run    #" in README and "make test   #" in README


def test_it_says_how_to_change_the_port_stop_and_reset_the_demo():
    assert "make run HOST=127.0.0.1:8080" in README
    assert "HOST ?=" in MAKEFILE and "runserver $(HOST)" in MAKEFILE
    assert README.count("Ctrl-C") >= 2  # in both languages
    assert README.count("make reset-demo") >= 2
    target = re.search(r"^reset-demo:.*\n((?:\t.*\n)+)", MAKEFILE, re.M)
    assert target and "load_demo --reset" in target.group(1)


def test_it_says_province_codes_are_gb_t_2260():
    assert README.count("GB/T 2260") >= 2
    assert "110000" in README and "440300" in README
