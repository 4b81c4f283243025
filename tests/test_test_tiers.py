"""The test tiers mean what they say: ``make test-fast`` leaves out every tier that needs a
service, a model or the whole app, and conftest's shortcut (a module that ``-m`` deselects as a
whole is not imported) only ever skips modules none of whose tests could be selected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import deselected_whatever_else, module_marks

ROOT = Path(__file__).resolve().parents[1]
FAST = "not slow and not llm and not redis and not promtool"


def test_module_marks_are_read_from_the_source_without_importing_it():
    assert module_marks("import pytest\npytestmark = pytest.mark.slow\n") == {"slow"}
    assert module_marks("pytestmark = [pytest.mark.redis, pytest.mark.slow]  # two API processes\n") == {"redis",
                                                                                                          "slow"}
    assert module_marks("def test_x():\n    pytestmark = pytest.mark.slow\n") is None  # not at module level
    assert module_marks("pytestmark = pytest.mark.skipif(True, reason='x')\n") is None  # not a plain mark: import it
    assert module_marks("x = 1\n") is None


@pytest.mark.parametrize("markexpr, marks, skipped", [
    (FAST, {"slow"}, True),
    (FAST, {"redis", "slow"}, True),
    (FAST, {"llm"}, True),
    ("slow", {"redis"}, False),  # one of its tests may also be marked slow
    ("not slow", {"redis"}, False),
    ("redis and not slow", {"redis", "slow"}, True),
    ("slow or redis", {"llm"}, False),
    ("not (slow or llm)", {"llm"}, True),
    ("promtool", {"promtool"}, False),
])
def test_a_module_is_skipped_only_when_its_own_marks_decide(markexpr, marks, skipped):
    assert deselected_whatever_else(markexpr, marks) is skipped


def test_make_test_fast_leaves_out_services_models_and_the_integration_tier():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^test-fast:.*\n\t(.+)$", makefile, flags=re.M).group(1)
    markexpr = re.search(r'-m "([^"]+)"', recipe).group(1)
    for tier in ("slow", "llm", "redis", "promtool"):
        assert deselected_whatever_else(markexpr, {tier}), f"make test-fast roda testes '{tier}'"
    assert not deselected_whatever_else(markexpr, set())  # unmarked tests (the unit tier) do run
