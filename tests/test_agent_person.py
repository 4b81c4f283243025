"""How the chat reads a person (pessoa física) a sales rep names for a quote: the name from
the rep's own words, the CPF as written (judged by its check digits), e-mail, phone."""

from __future__ import annotations

import pytest

from app.agent.person import parse_person


@pytest.mark.parametrize("message, name, cpf, email, phone", [
    ("faz uma cotação desse kit pra Maria Souza, CPF 529.982.247-25", "Maria Souza", "52998224725", None, None),
    ("gera orçamento para o cliente João da Silva, cpf 52998224725", "João da Silva", "52998224725", None, None),
    ("orçamento para pessoa física: Ana Lima, e-mail Ana.Lima@Exemplo.com", "Ana Lima", None, "ana.lima@exemplo.com",
     None),
    ("é PF: Ana Lima, tel (31) 98765-4321", "Ana Lima", None, None, "31987654321"),
    ("a cliente é pessoa física, maria souza, celular 31987654321", "Maria Souza", None, None, "31987654321"),
    ("faz uma cotação em 48x pra Maria Souza com CPF 529.982.247-25", "Maria Souza", "52998224725", None, None),
    ("create a quote for Maria Souza, CPF 529.982.247-25", "Maria Souza", "52998224725", None, None),
])
def test_a_person_is_read_from_the_reps_words(message, name, cpf, email, phone):
    person = parse_person(message)
    assert (person.name, person.cpf, person.email, person.phone) == (name, cpf, email, phone)
    assert not person.bad_cpf


def test_a_cpf_with_wrong_check_digits_is_kept_as_written_to_ask_about_it():
    person = parse_person("faz uma cotação pra Maria Souza, CPF 529.982.247-24")
    assert person.bad_cpf and person.cpf is None and person.cpf_raw == "529.982.247-24"
    assert person.customer() == {"name": "Maria Souza"}          # never sent on


@pytest.mark.parametrize("message", [
    "gera uma cotação desse kit pro cliente",                     # nobody named
    "cotação pra Solar BH, CNPJ 12.345.678/0001-90",               # a company
    "cria um orçamento desse sistema pra Solar BH Ltda, email compras@solarbh.com",  # a company's e-mail
    "cotação pra Solar Triângulo",                                 # a bare name: looked up as a company
])
def test_companies_and_messages_without_a_person_are_not_read_as_one(message):
    assert parse_person(message) is None


def test_no_name_is_made_up_from_ordinary_words():
    assert parse_person("gera orçamento pra pessoa física, CPF 529.982.247-25").name is None
    assert parse_person("o certo é 529.982.247-25", bare=True).name is None
    assert parse_person("Maria Souza, CPF 529.982.247-25", bare=True).name == "Maria Souza"
