"""Prompts live in prompts/; the Modelfile is generated from them and must stay in sync."""

from __future__ import annotations

import re

from app.agent import render as R
from app.core.text import format_brl, format_number
from cli.assistant import MODELFILE, render_modelfile


def test_modelfile_is_generated_from_the_system_prompt():
    assert MODELFILE.read_text(encoding="utf-8") == render_modelfile(), "rode 'helio modelfile'"
    system = (R.PROMPTS_DIR / "system.md").read_text(encoding="utf-8").strip()
    assert f'SYSTEM """{system}"""' in render_modelfile()
    assert re.search(r"^FROM \S+", render_modelfile(), re.M)


def _keys(d, prefix=""):
    out = set()
    for k, v in d.items():
        out.add(prefix + k)
        if isinstance(v, dict):
            out |= _keys(v, prefix + k + ".")
    return out


def test_templates_exist_in_both_languages_with_the_same_keys():
    assert _keys(R.templates("pt-BR")) == _keys(R.templates("en"))


def test_templates_carry_no_numbers_of_their_own():
    # Every figure in an answer must come from a tool; templates only hold placeholders.
    for lang in R.LANGS:
        flat = []

        def walk(v):
            if isinstance(v, dict):
                for x in v.values():
                    walk(x)
            else:
                flat.append(str(v))

        walk(R.templates(lang))
        offenders = [t for t in flat if re.search(r"\d", re.sub(r"\{[^}]*\}|14\.300|12 meses|12-month", "", t))]
        assert not offenders, offenders


def test_brazilian_number_formatting():
    assert format_brl(1234.5, "pt-BR") == "R$ 1.234,50"
    assert format_brl(1234.5, "en") == "R$ 1,234.50"
    assert format_number(4.95, "pt-BR", 2) == "4,95"
