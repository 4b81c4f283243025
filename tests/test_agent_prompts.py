"""Prompts live in prompts/; the Modelfile is generated from them and must stay in sync."""

from __future__ import annotations

import re

from app.agent import render
from app.core.text import format_brl, format_number
from cli.assistant import MODELFILE, render_modelfile


def test_modelfile_is_generated_from_the_system_prompt():
    assert MODELFILE.read_text(encoding="utf-8") == render_modelfile(), "rode 'helio modelfile'"
    system = (render.PROMPTS_DIR / "system.md").read_text(encoding="utf-8").strip()
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
    assert _keys(render.templates("pt-BR")) == _keys(render.templates("en"))


def test_templates_carry_no_numbers_of_their_own():
    # Every figure in an answer must come from a tool; templates only hold placeholders.
    for lang in render.LANGS:
        flat = []

        def walk(v):
            if isinstance(v, dict):
                for x in v.values():
                    walk(x)
            else:
                flat.append(str(v))

        walk(render.templates(lang))
        offenders = [t for t in flat if re.search(r"\d", re.sub(r"\{[^}]*\}|14\.300|12 meses|12-month", "", t))]
        assert not offenders, offenders


def test_brazilian_number_formatting():
    assert format_brl(1234.5, "pt-BR") == "R$ 1.234,50"
    assert format_brl(1234.5, "en") == "R$ 1,234.50"
    assert format_number(4.95, "pt-BR", 2) == "4,95"


def test_kits_left_out_by_the_roof_area_are_said_in_the_answer():
    from evals.fakes import FormulaSizing

    args = {"municipality": "Salvador", "uf": "BA", "monthly_kwh": 700, "connection": "three_phase",
            "roof_type": "slab", "roof_area_m2": 45}
    result = FormulaSizing().result(args)
    line = "A área do telhado limitou os kits: 2 kits do catálogo atenderiam à meta, mas não cabem em 45,0 m²."
    limited = result.model_copy(update={"assumptions": [*result.assumptions, line]})
    assert line in render.sizing_notes(args, limited, "pt-BR")
    assert render.templates("en")["notes"]["area_limited"] in render.sizing_notes(args, limited, "en")
    assert not any("limitou" in n for n in render.sizing_notes(args, result, "pt-BR"))  # silent when nothing was cut
