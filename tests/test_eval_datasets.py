"""The eval datasets (issue #12): sizes the issue asks for, valid against the real tool
schemas, the frozen test split kept out of the code and the dev split, and malformed
files reported with their file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.harness.datasets import (
    SPLITS,
    DatasetError,
    conversation_path,
    known_document_keys,
    knowledge_path,
    load_conversations,
    load_questions,
    tool_parameters,
)
from app.agent.places import fold

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def params():
    return tool_parameters()


@pytest.fixture(scope="module")
def sets(params):
    return {s: load_conversations(conversation_path(s), params) for s in SPLITS}


def test_conversation_sets_have_the_size_the_issue_asks_for(sets):
    turns = sum(s.n_turns for s in sets.values())
    conversations = [c for s in sets.values() for c in s.conversations]
    assert turns >= 200 and len(conversations) >= 50
    multi = [c for c in conversations if len(c.turns) >= 2]
    assert len(multi) >= 50
    langs = {lang: sum(c.lang == lang for c in conversations) for lang in ("pt", "en")}
    assert langs["pt"] > 3 * langs["en"] > 0  # mostly pt-BR, some en
    for s in sets.values():  # each split roughly half
        assert 0.4 <= s.n_turns / turns <= 0.6
        kinds = {t.kind for c in s.conversations for t in c.turns}
        assert kinds == {"call", "none", "ask", "refuse"}
        refusals = {t.refuse for c in s.conversations for t in c.turns if t.refuse}
        assert {"off_topic", "abuse", "injection", "unauthorized"} <= refusals
    ids = [c.id for c in conversations]
    assert len(ids) == len(set(ids))


def test_knowledge_sets_have_references_and_unanswerable_questions():
    root = ROOT / "data" / "knowledge"
    keys = known_document_keys(root)
    total = 0
    for split in SPLITS:
        qs = load_questions(knowledge_path(split)).questions
        total += len(qs)
        assert {q.lang for q in qs} == {"pt", "en"}
        assert any(not q.answerable for q in qs) and any(q.type == "source_silent" for q in qs)
        for q in qs:
            assert all(k in keys for k in q.contexts), (q.id, q.contexts)
    assert total >= 80


def _folded_text(folder: Path) -> str:
    return "\n".join(fold(p.read_text(encoding="utf-8", errors="ignore"))
                     for p in folder.rglob("*") if p.is_file() and p.suffix in (".py", ".yaml", ".yml", ".md", ".txt"))


def test_no_frozen_test_turn_appears_in_app_prompts_or_dev(sets):
    haystacks = {
        "app/": _folded_text(ROOT / "app"),
        "prompts/": _folded_text(ROOT / "prompts"),
        "data/intent/": _folded_text(ROOT / "data" / "intent"),  # the intent model's training turns
        "tests/": _folded_text(ROOT / "tests"),
        "dev split": "\n".join(fold(t.user) for c in sets["dev"].conversations for t in c.turns)
        + "\n" + "\n".join(fold(q.question) for q in load_questions(knowledge_path("dev")).questions),
    }
    test_texts = [t.user for c in sets["test"].conversations for t in c.turns if len(t.user) >= 12]
    test_texts += [q.question for q in load_questions(knowledge_path("test")).questions if len(q.question) >= 12]
    assert len(test_texts) > 100
    leaks = [(where, text) for text in test_texts for where, hay in haystacks.items() if fold(text) in hay]
    assert leaks == []


def test_the_leak_check_would_catch_a_copied_turn(sets, tmp_path):
    sample = next(t.user for c in sets["test"].conversations for t in c.turns if len(t.user) >= 12)
    (tmp_path / "rules.py").write_text(f'EXAMPLES = ["{sample.upper()}"]\n', encoding="utf-8")
    assert fold(sample) in _folded_text(tmp_path)


BAD_CASES = [
    ("unknown tool", "  - user: \"oi\"\n    calls: [{tool: size_system, args: {}}]\n", 10, "ferramenta desconhecida"),
    ("unknown argument", "  - user: \"oi\"\n    calls: [{tool: size_pv_system, args: {kwh: 3}}]\n", 10,
     "argumento 'kwh'"),
    ("no expectation", "  - user: \"oi\"\n    facts: [x]\n", 9, "exatamente um de calls"),
    ("unknown slot", "  - user: \"oi\"\n    ask: [cidade]\n", 9, "valor desconhecido 'cidade'"),
    ("undeclared company", "  - user: \"orcamento $company.acme\"\n    calls: []\n", 9, "'$company.acme' não declarada"),
    ("bad yaml", "  - user: \"oi\n    calls: []\n  - : :\n", 12, "que começa na linha 9"),
]


@pytest.mark.parametrize("name,turns,line,message", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_a_malformed_file_is_reported_with_file_and_line(tmp_path, params, name, turns, line, message):
    path = tmp_path / "dev.yaml"
    path.write_text(
        "version: 1\nsplit: dev\ncompanies: []\nconversations:\n- id: c1\n  category: sizing\n  lang: pt\n"
        "  turns:\n" + turns, encoding="utf-8")
    with pytest.raises(DatasetError) as err:
        load_conversations(path, params)
    text = str(err.value)
    assert text.startswith(f"{path}:{line}:") or text.startswith(f"{path.name}:{line}:"), text
    assert message in text


def test_a_malformed_question_names_its_line(tmp_path):
    path = tmp_path / "test.yaml"
    path.write_text("version: 1\nsplit: test\nquestions:\n- {id: q1, lang: pt, type: regulation, question: x,"
                    " reference: y, contexts: [a.md]}\n- {id: q2, lang: fr, type: regulation, question: x,"
                    " reference: y, contexts: [a.md]}\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"test\.yaml:5: 'q2': 'lang'"):
        load_questions(path)
