"""A sales rep quotes for a person (pessoa física) through the chat API, on the real app,
catalog and local commerce (rules only, as tests/test_chat_sales.py): the rep sizes, names a
person with a CPF, sees "Criar rascunho para pessoa física …?" and only the "sim" writes the
customer and the quote; a bad CPF is asked about; the same CPF twice reuses the customer."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from fastapi.testclient import TestClient

from app.auth.keys import make_key_store
from app.core.settings import Settings
from app.main import create_app

pytestmark = pytest.mark.slow
SIZING = "Cliente em Uberlândia MG, 650 kWh por mês, trifásico"


class Env:
    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client, self.settings = client, settings
        self.rep = {"Authorization": f"Bearer {make_key_store(settings).create('sales_rep', 'Ana').key}"}

    def chat(self, cid: str, message: str) -> dict:
        r = self.client.post("/v1/chat", json={"conversation_id": cid, "message": message, "stream": False},
                             headers=self.rep)
        assert r.status_code == 200, r.text
        return r.json()

    def count(self, table: str) -> int:
        with closing(sqlite3.connect(self.settings.commerce.db_path)) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def quote(self, quote_id: str) -> dict:
        r = self.client.get(f"/v1/quotes/{quote_id}", headers=self.rep)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def env(tmp_path, real_catalog):
    settings = Settings(
        _env_file=None, env="test", catalog={"db_path": real_catalog.db}, llm={"backend": "llamacpp"},
        commerce={"db_path": tmp_path / "commerce.sqlite3", "quotes_db_path": tmp_path / "quotes.sqlite3"},
        auth={"db_path": tmp_path / "auth.sqlite3", "pepper": "test-pepper"}, redis={"url": None},
    )
    with TestClient(create_app(settings)) as client:
        assistant = client.app.state.assistant
        assistant.consult_model = False
        assistant.rate_limiter.per_minute = 10**6
        yield Env(client, settings)


def card(reply: dict, kind: str) -> dict:
    return next(c["data"] for c in reply["cards"] if c["type"] == kind)


def test_a_quote_for_a_person_is_written_only_after_the_yes_and_the_same_cpf_reuses_her(env):
    env.chat("pf-1", SIZING)
    preview = env.chat("pf-1", "faz uma cotação desse kit pra Maria Souza, CPF 529.982.247-25")
    assert preview["message"].startswith("Criar rascunho para pessoa física Maria Souza (CPF ***.982.247-**)?")
    assert "529.982.247-25" not in preview["message"]
    assert preview["message"].rstrip().endswith("(sim/não)") and preview["awaiting"] == ["quote_confirmation"]
    assert "só depois do seu “sim”" in preview["message"] and "limite de gastos" not in preview["message"]
    assert card(preview, "quote_preview")["customer"]["cpf_masked"] == "***.982.247-**"
    assert env.count("customers") == 0 and env.count("quotes") == 0          # a summary writes nothing

    done = env.chat("pf-1", "sim")
    quote_id = card(done, "quote")["quote_id"]
    assert quote_id in done["message"]
    quote = env.quote(quote_id)
    assert quote["company_id"] is None and quote["customer"]["name"] == "Maria Souza"
    assert quote["customer"]["cpf_masked"] == "***.982.247-**"
    assert env.count("customers") == 1 and env.count("quotes") == 1
    customer_id = quote["customer"]["id"]

    # another conversation, the same CPF: her record is reused, not duplicated
    env.chat("pf-2", SIZING)
    again = env.chat("pf-2", "gera um orçamento para a cliente Maria Souza, cpf 52998224725")
    assert "já está no cadastro de clientes" in again["message"]
    second = env.quote(card(env.chat("pf-2", "sim"), "quote")["quote_id"])
    assert second["id"] != quote_id and second["customer"]["id"] == customer_id
    assert env.count("customers") == 1 and env.count("quotes") == 2


def test_without_the_yes_nothing_is_written(env):
    env.chat("pf-3", SIZING)
    env.chat("pf-3", "faz uma cotação desse kit pra Maria Souza, CPF 529.982.247-25")
    cancelled = env.chat("pf-3", "não")
    assert "não criei o orçamento" in cancelled["message"]
    env.chat("pf-3", "faz uma cotação desse kit pra Maria Souza, CPF 529.982.247-25")
    env.chat("pf-3", "quanto custa um inversor de 5 kW?")                  # moved on: the summary is dropped
    env.chat("pf-3", "sim")
    assert env.count("customers") == 0 and env.count("quotes") == 0


def test_a_bad_cpf_is_asked_about_and_the_corrected_reply_completes_the_person(env):
    env.chat("pf-4", SIZING)
    bad = env.chat("pf-4", "faz uma cotação desse kit pra Maria Souza, CPF 529.982.247-24")
    assert "O CPF 529.982.247-24 não confere" in bad["message"] and bad["awaiting"] == ["quote_company"]
    assert not any(c["type"] == "quote_preview" for c in bad["cards"])
    fixed = env.chat("pf-4", "o certo é 529.982.247-25")
    assert fixed["message"].startswith("Criar rascunho para pessoa física Maria Souza (CPF ***.982.247-**)?")
    assert env.count("customers") == 0


def test_a_person_without_a_name_or_contact_is_asked_for_it(env):
    env.chat("pf-5", SIZING)
    ask_name = env.chat("pf-5", "gera um orçamento pra pessoa física, CPF 529.982.247-25")
    assert ask_name["message"] == "Orçamento para pessoa física: qual o nome completo do cliente?"
    named = env.chat("pf-5", "Maria Souza")
    assert named["message"].startswith("Criar rascunho para pessoa física Maria Souza (CPF ***.982.247-**)?")

    env.chat("pf-6", SIZING)
    ask_contact = env.chat("pf-6", "cria o orçamento pra pessoa física João da Silva")
    assert "CPF, e-mail ou telefone" in ask_contact["message"] and "João da Silva" in ask_contact["message"]
    contact = env.chat("pf-6", "e-mail joao.silva@exemplo.com")
    assert contact["message"].startswith("Criar rascunho para pessoa física João da Silva (joao.silva@exemplo.com)?")
