"""Rebuild ``aneel_residencial.json``: the residential (B1) tariff of every distribution company.

    PYTHONPATH=. .venv/bin/python data/tariffs/build_aneel_tariffs.py [COMPILATION.json]

Input: a compilation of ANEEL's homologated residential tariffs per distributor (TE, TUSD,
TUSD Fio B, R$/MWh, without taxes); default ``../shared/data/tariffs-aneel/
tusd_fio_b_by_distributor.json`` (github.com/Thavia/canalsolar_tools, commit 341e6e67,
Jan 2026; no licence file, so the values are used as public regulatory facts and the file
is not shipped). Every row is checked (TE + TUSD = total, Fio B ≤ TUSD, Fio B's share of
TUSD within 15–75 %, values within plausible ranges); rows failing a check keep their
values with the flag written beside them.

Added here, not in the compilation (Hélio's own curation, see PROVENANCE.md): the states
each company serves, the largest company of each state (by consumers), a short list of
municipalities in states served by several large companies, the state ICMS rate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
_REL = Path("shared") / "data" / "tariffs-aneel" / "tusd_fio_b_by_distributor.json"
# ../shared beside the main checkout, or two levels up from a worktree under /work/wt
DEFAULT_INPUT = next((p / _REL for p in (ROOT.parent, ROOT.parents[1]) if (p / _REL).is_file()), ROOT.parent / _REL)
OUT = HERE / "aneel_residencial.json"

# name in the compilation → states served (main state first). Cooperatives and small
# permissionárias serve part of one state.
STATES = {
    "Amazonas Energia": ["AM"], "Castro - DIS": ["PR"], "Cedrap": ["SP"], "Cedri": ["SP"], "CEGERO": ["SC"],
    "Cejama": ["SC"], "Celesc-DIS": ["SC", "PR"], "CELETRO": ["RS"], "Cemig-D": ["MG"], "Cemirim": ["SP"],
    "Ceprag": ["SC"], "Ceraça": ["SC"], "Ceral Anitápolis": ["SC"], "Ceral Araruama": ["RJ"], "Ceral DIS": ["PR"],
    "Cerbranorte": ["SC"], "CERCI": ["RJ"], "Cercos": ["SE"], "Cerej": ["SC"], "Ceres": ["RJ"], "CERFOX": ["RS"],
    "Cergal": ["SC"], "Cergapa": ["SC"], "Cergral": ["SC"], "Ceriluz": ["RS"], "Cerim": ["SP"], "Ceripa": ["SP"],
    "Ceris": ["SP"], "CERMC": ["SP"], "Cermissões": ["RS"], "Cermoful": ["SC"], "Cernhe": ["SP"], "Cerpalo": ["SC"],
    "Cerpro": ["SP"], "CERRP": ["SP"], "Cersad": ["SC"], "Cersul": ["SC"], "Certaja": ["RS"], "Certel": ["RS"],
    "CERTHIL": ["RS"], "Certrel": ["SC"], "CERVAM": ["SP"], "Cetril": ["SP"], "Chesp": ["GO"], "Cocel": ["PR"],
    "Codesam": ["SC"], "Coopera": ["SC"], "Cooperaliança": ["SC"], "Coopercocal": ["SC"], "Cooperluz": ["RS"],
    "Coopermila": ["SC"], "COOPERNORTE": ["RS"], "COOPERSUL": ["RS"], "COOPERZEM": ["SC"], "Coorsel": ["SC"],
    "Copel-DIS": ["PR"], "COPREL": ["RS"], "CPFL Paulista": ["SP"], "CPFL Piratininga": ["SP"],
    "CPFL Santa Cruz": ["SP", "PR", "MG"], "Creluz-D": ["RS"], "Creral": ["RS"], "Dcelt": ["SC"], "Demei": ["RS"],
    "DMED": ["MG"], "EDP ES": ["ES"], "EDP SP": ["SP"], "EFLJC": ["SC"], "Eflul": ["SC"], "Eletrocar": ["RS"],
    "ELFSM": ["ES"], "Enel CE": ["CE"], "Enel RJ": ["RJ"], "Enel SP": ["SP"], "Energisa AC": ["AC"],
    "Energisa Minas Rio": ["MG", "RJ"], "Energisa MS": ["MS"], "Energisa MT": ["MT"], "Energisa PB": ["PB"],
    "Energisa RO": ["RO"], "Energisa SE": ["SE"], "Energisa Sul Sudeste": ["SP", "PR", "MG"], "Energisa TO": ["TO"],
    "Equatorial AL": ["AL"], "Equatorial CEEE": ["RS"], "Equatorial GO": ["GO"], "Equatorial MA": ["MA"],
    "Equatorial PA": ["PA"], "Equatorial PI": ["PI"], "Hidropan": ["RS"], "Light": ["RJ"], "MuxEnergia": ["RS"],
    "Neoenergia Brasília": ["DF"], "Neoenergia Coelba": ["BA"], "Neoenergia Cosern": ["RN"],
    "Neoenergia Elektro": ["SP", "MS"], "Neoenergia Pernambuco": ["PE"], "Nova Palma": ["RS"],
    "Pacto Energia": ["PR"], "RGE": ["RS"], "Roraima Energia": ["RR"], "Sulgipe": ["SE", "BA"],
}
# Largest company of each state by number of consumers. AP (CEA Equatorial) is missing from
# the compilation: it falls back to the national median, said in the assumptions.
STATE_LARGEST = {
    "AC": "Energisa AC", "AL": "Equatorial AL", "AM": "Amazonas Energia", "BA": "Neoenergia Coelba",
    "CE": "Enel CE", "DF": "Neoenergia Brasília", "ES": "EDP ES", "GO": "Equatorial GO", "MA": "Equatorial MA",
    "MG": "Cemig-D", "MS": "Energisa MS", "MT": "Energisa MT", "PA": "Equatorial PA", "PB": "Energisa PB",
    "PE": "Neoenergia Pernambuco", "PI": "Equatorial PI", "PR": "Copel-DIS", "RJ": "Light", "RN": "Neoenergia Cosern",
    "RO": "Energisa RO", "RR": "Roraima Energia", "RS": "RGE", "SC": "Celesc-DIS", "SE": "Energisa SE",
    "SP": "Enel SP", "TO": "Energisa TO",
}
# Municipalities served by a company other than their state's largest (large cities of
# states split between several big companies). Everything else: the state's largest.
MUNICIPALITIES = {
    "CPFL Paulista": ("SP", ["Campinas", "Ribeirão Preto", "São José do Rio Preto", "Bauru", "Piracicaba",
                             "Franca", "São Carlos", "Araraquara", "Marília", "Americana"]),
    "CPFL Piratininga": ("SP", ["Santos", "São Vicente", "Sorocaba", "Jundiaí", "Praia Grande", "Indaiatuba"]),
    "EDP SP": ("SP", ["Guarulhos", "São José dos Campos", "Mogi das Cruzes", "Taubaté", "Jacareí",
                      "Suzano", "Itaquaquecetuba"]),
    "Energisa Sul Sudeste": ("SP", ["Presidente Prudente"]),
    "Enel RJ": ("RJ", ["Niterói", "São Gonçalo", "Petrópolis", "Campos dos Goytacazes", "Cabo Frio", "Macaé",
                       "Itaboraí", "Angra dos Reis", "Teresópolis", "Maricá"]),
    "Energisa Minas Rio": ("RJ", ["Nova Friburgo"]),
    "Equatorial CEEE": ("RS", ["Porto Alegre", "Pelotas", "Rio Grande", "Alvorada", "Viamão", "Camaquã"]),
}
# Modal ICMS rate on residential electricity per state [%] (after LC 194/2022 made
# electricity an essential good; 2025 rates). Reduced brackets for low consumption and
# the FECP/FECOEP surcharges are not modelled.
ICMS_PCT = {
    "AC": 19.0, "AL": 19.0, "AM": 20.0, "AP": 18.0, "BA": 20.5, "CE": 20.0, "DF": 20.0, "ES": 17.0, "GO": 19.0,
    "MA": 23.0, "MG": 18.0, "MS": 17.0, "MT": 17.0, "PA": 19.0, "PB": 20.0, "PE": 20.5, "PI": 22.5, "PR": 19.5,
    "RJ": 20.0, "RN": 20.0, "RO": 19.5, "RR": 20.0, "RS": 17.0, "SC": 17.0, "SE": 19.0, "SP": 18.0, "TO": 20.0,
}
PIS_COFINS_PCT = 5.5  # effective PIS + COFINS on bills, which vary month to month (≈ 4–7 %)


def _slug(name: str) -> str:
    from app.sizing.sites import normalize_name

    return normalize_name(name).replace(" ", "-")


def check(row: dict) -> list[str]:
    flags = []
    te, tusd, fio_b, total = row["te"], row["tusd"], row["valor"], row["tusd_te"]
    if abs(te + tusd - total) > 0.05:
        flags.append(f"TE + TUSD ({te + tusd:.2f}) difere do total ({total:.2f})")
    if not 0 < fio_b <= tusd:
        flags.append("Fio B fora de (0, TUSD]")
    elif not 0.15 <= fio_b / tusd <= 0.75:
        flags.append(f"Fio B = {100 * fio_b / tusd:.0f} % da TUSD (fora de 15–75 %): conferir na ANEEL")
    if not 350 <= total <= 1600:
        flags.append(f"TE + TUSD = {total:.0f} R$/MWh fora de 350–1.600")
    return flags


def build(rows: list[dict]) -> dict:
    from app.sizing.sites import find_municipality

    names = [r["sigla"] for r in rows]
    missing = sorted(set(names) - set(STATES))
    if missing:
        raise SystemExit(f"companies without states: {missing}")
    same_values: dict[tuple[float, float], list[str]] = {}
    for r in rows:
        same_values.setdefault((r["te"], r["tusd"]), []).append(r["sigla"])
    distributors = []
    for r in sorted(rows, key=lambda r: _slug(r["sigla"])):
        flags = check(r)
        twins = [n for n in same_values[(r["te"], r["tusd"])] if n != r["sigla"]]
        if twins:
            flags.append("TE e TUSD idênticas às de " + ", ".join(twins) + " (possível cópia na compilação)")
        distributors.append({
            "id": _slug(r["sigla"]), "nome": r["sigla"], "estados": STATES[r["sigla"]],
            "te_brl_per_kwh": round(r["te"] / 1000, 5), "tusd_brl_per_kwh": round(r["tusd"] / 1000, 5),
            "tusd_fio_b_brl_per_kwh": round(r["valor"] / 1000, 5),
            "resolucao_aneel": None, "vigencia": None, "alertas": flags,
        })
    by_name = {d["nome"]: d["id"] for d in distributors}
    municipalities = {}
    for name, (uf, cities) in MUNICIPALITIES.items():
        for city in cities:
            municipalities[str(find_municipality(city, uf).ibge_code)] = by_name[name]
    return {
        "fonte": "Tarifas residenciais B1 homologadas pela ANEEL (TE, TUSD, TUSD Fio B, sem impostos), conforme "
                 "compilação pública de jan/2026 (github.com/Thavia/canalsolar_tools, commit 341e6e67); resolução e "
                 "vigência por distribuidora não constam da compilação (null).",
        "unidade": "R$/kWh, sem ICMS, PIS/COFINS nem bandeiras",
        "distribuidoras": distributors,
        "maior_por_uf": {uf: by_name[n] for uf, n in sorted(STATE_LARGEST.items())},
        "municipios": dict(sorted(municipalities.items())),
        "impostos": {
            "icms_pct_por_uf": ICMS_PCT, "pis_cofins_pct": PIS_COFINS_PCT,
            "nota": "Alíquota modal de ICMS sobre energia residencial por UF (2025, após a LC 194/2022), sem faixas "
                    "reduzidas nem adicionais de fundo de pobreza; PIS/COFINS efetivos variam mês a mês (≈ 4–7 %): "
                    "5,5 % como hipótese. Tarifa com tributos = tarifa / (1 − ICMS − PIS/COFINS) (cálculo por "
                    "dentro, como na conta).",
        },
    }


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_INPUT
    rows = json.loads(src.read_text(encoding="utf-8"))
    data = build(rows)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    flagged = [d["nome"] for d in data["distribuidoras"] if d["alertas"]]
    print(f"{len(data['distribuidoras'])} distribuidoras, {len(data['municipios'])} municípios mapeados, "
          f"{len(flagged)} com alertas: {', '.join(flagged)} -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
