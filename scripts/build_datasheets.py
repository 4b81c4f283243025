#!/usr/bin/env python3
"""Build the datasheet corpus in data/knowledge/datasheets/ from the catalog export + CEC.

Every value printed in a datasheet comes from one of two sources:

* the upstream catalog export (YSH unified schemas, MIT): only what the *text* of a row
  states (name, description, the Solfácil ``price`` field that carries the real product
  name, kit bills of materials).  Each value is declared below together with the literal
  text it was read from (``evidence``); the build fails if that text is not found in the
  listed rows.  The automatically "enriched" ``technical_specs`` block of the export is
  not used (it is inconsistent: ``efficiency`` copies the power, ``power_w`` is 6 for a
  6 kW inverter, and so on).
* the CEC module / inverter databases bundled with pvlib (NREL SAM), when the exact model
  is found there (same manufacturer and the same model code, normalised).  No guessing:
  a product without a model code is never matched.

A field that no source gives is printed as "não informado pela fonte".

Output is deterministic: products are processed in sorted order, PDFs are written with
reportlab's ``invariant=1`` (fixed creation date and document id) and fixed metadata, so a
re-run produces byte-identical files.

Usage::

    python scripts/build_datasheets.py [--catalog DIR] [--out DIR] [--check]

``--catalog`` defaults to ``$HELIO_UPSTREAM_CATALOG``, then ``data/catalog/upstream`` and
``../shared/data/upstream-catalog`` relative to the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NI = "não informado pela fonte"

# --------------------------------------------------------------------------------------
# Product declarations.  F(section, label, value, evidence): `evidence` must occur (case
# and whitespace insensitive) in the text of one of the product's upstream rows.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class F:
    section: str
    label: str
    value: str
    evidence: str


@dataclass
class Product:
    slug: str
    category: str  # module | inverter
    manufacturer: str
    model: str
    product_name: str  # catalog product name (cleaned from the export, never invented)
    upstream: list[tuple[str, str]]  # (export file, row id)
    facts: list[F]
    fmt: str = "md"  # md | pdf
    pages: int = 2  # for pdf: page 1 = identification + electrical tables, page 2 = the rest
    cec_mfr: tuple[str, ...] = ()  # manufacturer tokens for the CEC lookup
    cec_model: str = ""  # model code for the CEC lookup ("" = no model code: never match)
    notes: list[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"{self.slug}.{self.fmt}"

    @property
    def upstream_ids(self) -> list[str]:
        out: list[str] = []
        for _, rid in self.upstream:
            if rid not in out:
                out.append(rid)
        return out


P = "panels_unified.json"
INV = "inverters_unified.json"
KIT = "kits_unified.json"

# Section keys
EL, TEMP, MEC, CC, CA, GER, OBS = "el", "temp", "mec", "cc", "ca", "ger", "obs"


def _odex_panel(slug, brand, watts, rid, fmt="md", pages=1, brand_display=None):
    bd = brand_display or brand
    ev = f"Painel Solar {brand} {watts}W"
    return Product(
        slug=slug,
        category="module",
        manufacturer=bd,
        model=f"{watts} W",
        product_name=ev,
        upstream=[(P, rid), (INV, rid)],
        facts=[F(EL, "Potência máxima (Pmax, STC)", f"{watts} W", ev)],
        fmt=fmt,
        pages=pages,
        notes=[
            "O catálogo identifica este módulo apenas por marca e potência; não há código de "
            "modelo do fabricante, por isso nenhum valor elétrico além da potência pôde ser "
            "associado a ele."
        ],
    )


MODULES: list[Product] = [
    _odex_panel("odex-585w", "Odex", 585, "odex_inverters_ODEX-PAINEL-ODEX-585W", "pdf", 2),
    _odex_panel("odex-600w", "Odex", 600, "odex_inverters_ODEX-PAINEL-ODEX-600W"),
    _odex_panel("odex-610w", "Odex", 610, "odex_inverters_ODEX-PAINEL-ODEX-610W"),
    _odex_panel("odex-660w", "Odex", 660, "odex_inverters_ODEX-PAINEL-ODEX-660W", "pdf", 2),
    _odex_panel("odex-700w", "Odex", 700, "odex_inverters_ODEX-PAINEL-ODEX-700W"),
    _odex_panel("astronergy-600w", "Astronergy", 600,
                "odex_inverters_ODEX-PAINEL-ASTRONERGY-600W", "pdf", 2),
    _odex_panel("tsun-560w", "Tsun", 560, "odex_inverters_ODEX-PAINEL-TSUN-560W"),
    _odex_panel("jinko-610w", "Jinko", 610, "odex_inverters_ODEX-PAINEL-JINKO-610W", "pdf", 2),
    _odex_panel("jinko-615w", "Jinko", 615, "odex_inverters_ODEX-PAINEL-JINKO-615W"),
    Product(
        slug="hanersun-hn18n-72h-585w", category="module", manufacturer="Hanersun",
        model="HN18N-72H",
        product_name="MODULO FOTOVOLTAICO 585W - HANERSUN - EF. 22.6% - HN18N-72H",
        upstream=[(P, "solfacil_panels_1"), (P, "solfacil_panels_2")],
        facts=[
            F(EL, "Potência máxima (Pmax, STC)", "585 W", "MODULO FOTOVOLTAICO 585W - HANERSUN"),
            F(EL, "Eficiência do módulo (no nome do produto)", "22,6 %", "EF. 22.6%"),
        ],
        fmt="pdf", cec_mfr=("hanersun",), cec_model="HN18N-72H",
        notes=["O catálogo lista duas ofertas do mesmo modelo, com os sufixos \"IMP\" "
               "(solfacil_panels_1) e \"D\" (solfacil_panels_2); a fonte não explica os sufixos."],
    ),
    Product(
        slug="dah-dhn-72x16-dg-585w", category="module", manufacturer="DAH Solar",
        model="DHN-72X16/DG",
        product_name="MODULO FOTOVOLTAICO 585W - DAH BIFACIAL - EF. 22.65% - DHN-72X16/DG",
        upstream=[(P, "solfacil_panels_3")],
        facts=[
            F(EL, "Potência máxima (Pmax, STC)", "585 W", "MODULO FOTOVOLTAICO 585W - DAH"),
            F(EL, "Eficiência do módulo (no nome do produto)", "22,65 %", "EF. 22.65%"),
            F(EL, "Bifacial", "sim", "DAH BIFACIAL"),
        ],
        fmt="pdf", cec_mfr=("dah",), cec_model="DHN-72X16",
    ),
    Product(
        slug="osda-33v-mhdrz-610w", category="module", manufacturer="OSDA",
        model="33V-MHDRZ",
        product_name="MODULO FOTOVOLTAICO 610W - OSDA BIFACIAL - EF. 22.60% - 33V-MHDRZ",
        upstream=[(P, "solfacil_panels_4")],
        facts=[
            F(EL, "Potência máxima (Pmax, STC)", "610 W", "MODULO FOTOVOLTAICO 610W - OSDA"),
            F(EL, "Eficiência do módulo (no nome do produto)", "22,60 %", "EF. 22.60%"),
            F(EL, "Bifacial", "sim", "OSDA BIFACIAL"),
        ],
        fmt="md", cec_mfr=("osda",), cec_model="33V-MHDRZ",
    ),
    Product(
        slug="hanersun-hn21h-66ht-700w", category="module", manufacturer="Hanersun",
        model="HN21H-66HT",
        product_name="MODULO FOTOVOLTAICO 700W - HANERSUN BIFACIAL - EF.22.5% - HJT HN21H-66HT",
        upstream=[(P, "solfacil_panels_5")],
        facts=[
            F(EL, "Potência máxima (Pmax, STC)", "700 W", "MODULO FOTOVOLTAICO 700W - HANERSUN"),
            F(EL, "Eficiência do módulo (no nome do produto)", "22,5 %", "EF.22.5%"),
            F(EL, "Bifacial", "sim", "HANERSUN BIFACIAL"),
            F(EL, "Tecnologia da célula", "HJT (heterojunção), conforme o nome do produto",
              "HJT HN21H-66HT"),
        ],
        fmt="pdf", cec_mfr=("hanersun",), cec_model="HN21H-66HT",
    ),
    Product(
        slug="minasol-ms-545", category="module", manufacturer="Minasol", model="MS-545",
        product_name="MODULO FOTOVOLTAICO 545W - MINASOL NACIONAL - MS-545",
        upstream=[(P, "solfacil_panels_6")],
        facts=[
            F(EL, "Potência máxima (Pmax, STC)", "545 W", "MODULO FOTOVOLTAICO 545W - MINASOL"),
            F(OBS, "Origem (texto do catálogo)", "\"NACIONAL\"", "MINASOL NACIONAL"),
        ],
        fmt="md", cec_mfr=("minasol",), cec_model="MS-545",
    ),
    Product(
        slug="solar-n-plus-570w", category="module", manufacturer="Solar N Plus", model="570 W",
        product_name="SOLAR N PLUS | 570W N-TYPE BIFACIAL DG (22,1% EF.) | FRAME DE FIBRA DE VIDRO",
        upstream=[(KIT, "FOTUS-KP04-kits")],
        facts=[
            F(EL, "Potência máxima (Pmax, STC)", "570 W", "SOLAR N PLUS | 570W"),
            F(EL, "Eficiência do módulo (no nome do produto)", "22,1 %", "(22,1% EF.)"),
            F(EL, "Tecnologia da célula", "N-type", "570W N-TYPE"),
            F(EL, "Bifacial", "sim (\"BIFACIAL DG\")", "N-TYPE BIFACIAL DG"),
            F(MEC, "Moldura", "fibra de vidro", "FRAME DE FIBRA DE VIDRO"),
        ],
        fmt="pdf",
        notes=["Módulo vendido como componente dos kits FOTUS (lista de materiais do kit "
               "FOTUS-KP04-kits e de outros kits \"SOLAR N PLUS 570W\"). A sigla \"DG\" aparece "
               "no nome sem explicação na fonte."],
    ),
    Product(
        slug="solar-n-plus-600w", category="module", manufacturer="Solar N Plus", model="600 W",
        product_name="SOLAR N PLUS | 600W N-TYPE BIFACIAL DG (21,9% EF.) | 78 CELLS | "
                     "FRAME DE FIBRA DE VIDRO",
        upstream=[(KIT, "FOTUS-KP02-kits")],
        facts=[
            F(EL, "Potência máxima (Pmax, STC)", "600 W", "SOLAR N PLUS | 600W"),
            F(EL, "Eficiência do módulo (no nome do produto)", "21,9 %", "(21,9% EF.)"),
            F(EL, "Tecnologia da célula", "N-type", "600W N-TYPE"),
            F(EL, "Bifacial", "sim (\"BIFACIAL DG\")", "N-TYPE BIFACIAL DG"),
            F(MEC, "Número de células", "78", "78 CELLS"),
            F(MEC, "Moldura", "fibra de vidro", "FRAME DE FIBRA DE VIDRO"),
        ],
        fmt="md",
        notes=["Módulo vendido como componente dos kits FOTUS (lista de materiais do kit "
               "FOTUS-KP02-kits e de outros kits \"SOLAR N PLUS 600W\")."],
    ),
    Product(
        slug="trina-710w-n-type-bifacial", category="module", manufacturer="Trina",
        model="710 W", product_name="TRINA | TIER 1 | 710W N-TYPE BIFACIAL",
        upstream=[(KIT, "FOTUS-KP03-kits")],
        facts=[
            F(EL, "Potência máxima (Pmax, STC)", "710 W", "TRINA | TIER 1 | 710W"),
            F(EL, "Tecnologia da célula", "N-type", "710W N-TYPE"),
            F(EL, "Bifacial", "sim", "N-TYPE BIFACIAL"),
        ],
        fmt="pdf",
        notes=["Módulo vendido como componente dos kits FOTUS (kit FOTUS-KP03-kits e outros "
               "kits \"TRINA 710W\"). O catálogo não traz o código de modelo do fabricante."],
    ),
    Product(
        slug="astronergy-600w-n-type-bifacial", category="module", manufacturer="Astronergy",
        model="600 W", product_name="ASTRONERGY | TIER 1 | 600W N-TYPE BIFACIAL (22,2% EF.)",
        upstream=[(KIT, "FOTUS-KP04-kits-hibridos")],
        facts=[
            F(EL, "Potência máxima (Pmax, STC)", "600 W", "ASTRONERGY | TIER 1 | 600W"),
            F(EL, "Eficiência do módulo (no nome do produto)", "22,2 %", "(22,2% EF.)"),
            F(EL, "Tecnologia da célula", "N-type", "600W N-TYPE"),
            F(EL, "Bifacial", "sim", "N-TYPE BIFACIAL"),
        ],
        fmt="md",
        notes=["Módulo vendido como componente dos kits FOTUS. A fonte não permite afirmar "
               "que é o mesmo produto do \"Painel Solar Astronergy 600W\" da ODEX "
               "(ver astronergy-600w.pdf), por isso as folhas são separadas."],
    ),
]


def _odex_inv(slug, mfr, model, rid, name, kw, phase, vac, mppt, kind, fmt="md", pages=1,
              cec_mfr=(), extra=(), notes=()):
    facts = [
        F(GER, "Tipo", kind, name),
        F(CA, "Potência nominal CA", kw, name),
        F(CA, "Fases", phase, name),
        F(CA, "Tensão CA", vac, name),
        F(CC, "Número de MPPTs", mppt, name),
        *extra,
    ]
    return Product(slug=slug, category="inverter", manufacturer=mfr, model=model,
                   product_name=name, upstream=[(INV, rid)], facts=facts, fmt=fmt,
                   pages=pages, cec_mfr=cec_mfr, cec_model=model, notes=list(notes))


def _solf_inv(slug, mfr, model, rids, desc, kw, phase, vac, kind, fmt="md", pages=1,
              cec_mfr=(), extra=(), notes=()):
    facts = [
        F(GER, "Tipo", kind, desc),
        F(CA, "Potência nominal CA", kw, desc),
        F(CA, "Fases", phase, desc),
        F(CA, "Tensão CA", vac, desc),
        *extra,
    ]
    return Product(slug=slug, category="inverter", manufacturer=mfr, model=model,
                   product_name=desc, upstream=[(INV, r) for r in rids], facts=facts, fmt=fmt,
                   pages=pages, cec_mfr=cec_mfr, cec_model=model, notes=list(notes))


MICRO_DEYE_NOTE = ("Descrição da fonte: \"Wi-Fi Integrado\"; \"MLPE\" (eletrônica de potência "
                   "no nível do módulo).")

INVERTERS: list[Product] = [
    # ---- microinversores ---------------------------------------------------------------
    Product(
        slug="deye-sun2250-g4", category="inverter", manufacturer="Deye", model="SUN2250 G4",
        product_name="Microinversor Deye SUN2250 G4 Monofásico 2250W - 220V - MLPE e Wi-Fi "
                     "Integrado",
        upstream=[(INV, "neosolar_inverters_22916"), (INV, "neosolar_inverters_22714")],
        facts=[
            F(GER, "Tipo", "microinversor (MLPE)", "Microinversor Deye SUN2250 G4"),
            F(CA, "Potência nominal CA (potência contínua)", "2250 W",
              "Potência Contínua: 2250 W"),
            F(CA, "Fases", "monofásico", "SUN2250 G4 Monofásico"),
            F(CA, "Tensão CA", "220 V", "Tensão: 220 V"),
            F(OBS, "Comunicação", "Wi-Fi integrado", "Wi-Fi Integrado"),
            F(OBS, "Garantia (texto do catálogo, listagem neosolar_inverters_22916)", "10 anos",
              "Garantia: de 10 anos"),
            F(OBS, "Garantia (texto do catálogo, listagem neosolar_inverters_22714)", "12 anos",
              "Garantia: de 12 anos"),
        ],
        fmt="pdf", cec_mfr=("deye",), cec_model="SUN2250",
        notes=["As duas listagens do catálogo têm o mesmo nome mas garantias diferentes "
               "(10 e 12 anos); confirme com o fabricante antes de citar a garantia."],
    ),
    Product(
        slug="deye-sun2000g3", category="inverter", manufacturer="Deye", model="SUN2000G3",
        product_name="Microinversor Deye SUN2000G3 Monofásico 2000W - 220V - MLPE e Wi-Fi "
                     "Integrado",
        upstream=[(INV, "neosolar_inverters_20287")],
        facts=[
            F(GER, "Tipo", "microinversor (MLPE)", "Microinversor Deye SUN2000G3"),
            F(CA, "Potência nominal CA (potência contínua)", "2000 W",
              "Potência Contínua: 2000 W"),
            F(CA, "Fases", "monofásico", "SUN2000G3 Monofásico"),
            F(CA, "Tensão CA", "220 V", "Tensão: 220 V"),
            F(OBS, "Comunicação", "Wi-Fi integrado", "Wi-Fi Integrado"),
            F(OBS, "Garantia (texto do catálogo)", "12 anos", "Garantia: de 12 anos"),
        ],
        fmt="md", cec_mfr=("deye",), cec_model="SUN2000G3",
    ),
    _odex_inv("deye-sun-m80g4-eu-q0", "Deye", "SUN-M80G4-EU-Q0",
              "odex_inverters_ODEX-INV-DEYE-800W",
              "Microinversor Deye SUN-M80G4-EU-Q0 800W 220V 2 painéis", "800 W",
              NI, "220 V", NI, "microinversor", "pdf", 2, ("deye",),
              extra=[F(CC, "Módulos por microinversor", "2", "2 painéis")]),
    _odex_inv("deye-sun-m120g4-eu-q0", "Deye", "SUN-M120G4-EU-Q0",
              "odex_inverters_ODEX-INV-DEYE-1200W",
              "Microinversor Deye SUN-M120G4-EU-Q0 1200W 220V 4 painéis", "1200 W",
              NI, "220 V", NI, "microinversor", "md", 1, ("deye",),
              extra=[F(CC, "Módulos por microinversor", "4", "4 painéis")]),
    _odex_inv("deye-sun-2400g3-eu-q0", "Deye", "SUN-2400G3-EU-Q0",
              "odex_inverters_ODEX-INV-DEYE-2400W",
              "Microinversor Deye SUN-2400G3-EU-Q0 2400W 220V 8 painéis", "2400 W",
              NI, "220 V", NI, "microinversor", "md", 1, ("deye",),
              extra=[F(CC, "Módulos por microinversor", "8", "8 painéis")]),
    Product(
        slug="deye-sun-m225g4-eu-q0-i", category="inverter", manufacturer="Deye",
        model="SUN-M225G4-EU-Q0-I",
        product_name="MICROINVERSOR DEYE 2.25KW (SUN-M225G4-EU-Q0-I) MONOFÁSICO 220V (4 MLPE)",
        upstream=[(KIT, "FOTUS-KP04-kits"), (KIT, "FOTUS-KP03-kits")],
        facts=[
            F(GER, "Tipo", "microinversor", "MICROINVERSOR DEYE 2.25KW"),
            F(CA, "Potência nominal CA", "2,25 kW", "DEYE 2.25KW (SUN-M225G4-EU-Q0-I)"),
            F(CA, "Fases", "monofásico", "(SUN-M225G4-EU-Q0-I) MONOFÁSICO"),
            F(CA, "Tensão CA", "220 V", "MONOFÁSICO 220V"),
            F(CC, "Entradas (texto do catálogo)", "\"4 MLPE\"", "(4 MLPE)"),
        ],
        fmt="md", cec_mfr=("deye",), cec_model="SUN-M225G4-EU-Q0-I",
        notes=["Vendido como componente dos kits FOTUS (ex.: FOTUS-KP04-kits, FOTUS-KP03-kits). "
               "A fonte não permite afirmar que é o mesmo produto do \"Deye SUN2250 G4\" "
               "listado pela Neosolar (deye-sun2250-g4.pdf)."],
    ),
    Product(
        slug="tsuness-tsol-mx2250", category="inverter", manufacturer="Tsuness",
        model="TSOL-MX2250",
        product_name="MICROINVERSOR TSUNESS 2.25KW (TSOL-MX2250) MONOFÁSICO 220V (4 MLPE)",
        upstream=[(KIT, "FOTUS-KP04-kits-hibridos"), (KIT, "FOTUS-KP02-kits")],
        facts=[
            F(GER, "Tipo", "microinversor", "MICROINVERSOR TSUNESS 2.25KW"),
            F(CA, "Potência nominal CA", "2,25 kW", "TSUNESS 2.25KW (TSOL-MX2250)"),
            F(CA, "Fases", "monofásico", "(TSOL-MX2250) MONOFÁSICO"),
            F(CA, "Tensão CA", "220 V", "MONOFÁSICO 220V"),
            F(CC, "Entradas (texto do catálogo)", "\"4 MLPE\"", "(4 MLPE)"),
        ],
        fmt="pdf", cec_mfr=("tsuness", "tsun"), cec_model="TSOL-MX2250",
        notes=["Vendido como componente dos kits FOTUS (ex.: FOTUS-KP04-kits-hibridos, "
               "FOTUS-KP02-kits e os kits \"TSUNESS 2.25kW (TSOL-MX2250)\")."],
    ),
    _solf_inv("enphase-iq8p-72-2-br", "Enphase", "IQ8P-72-2-BR", ["solfacil_inverters_1"],
              "MICRO INVERSOR FOTOVOLTAICO IQ8P-72-2-BR - SUL EX 0.475KW ENPHASE MONO 220V",
              "475 W (0,475 kW)", "monofásico", "220 V", "microinversor", "pdf", 2,
              ("enphase",),
              notes=["O banco CEC traz modelos IQ8 apenas em versões para a rede dos EUA; "
                     "nenhuma entrada com o código IQ8P-72-2-BR foi encontrada."]),
    _solf_inv("goodwe-gw2000-mis", "GoodWe", "GW2000-MIS", ["solfacil_inverters_3"],
              "MICRO INVERSOR FOTOVOLTAICO GW2000-MIS - SUL EX 2KW GOODWE MONO 220V",
              "2 kW", "monofásico", "220 V", "microinversor", "md", 1, ("goodwe",)),
    # ---- string, monofásicos -----------------------------------------------------------
    Product(
        slug="livoltek-gt1-6kd2", category="inverter", manufacturer="Livoltek", model="GT1-6KD2",
        product_name="Inversor On Grid Livoltek 6kW 220V Monofásico - GT1-6KD2",
        upstream=[(INV, "neosolar_inverters_24876")],
        facts=[
            F(GER, "Tipo", "on-grid (string)", "Inversor On Grid Livoltek 6kW"),
            F(CA, "Potência nominal CA", "6 kW", "Livoltek 6kW 220V"),
            F(CA, "Fases", "monofásico", "220V Monofásico - GT1-6KD2"),
            F(CA, "Tensão CA", "220 V", "6kW 220V Monofásico"),
            F(CC, "Número de MPPTs", "2", "2 MPPTS (16A + 16A)"),
            F(CC, "Corrente máx. de entrada por MPPT", "16 A + 16 A", "2 MPPTS (16A + 16A)"),
            F(CC, "Potência FV máxima (PVmax)", "9 kW", "PVmax: 9kW"),
            F(CC, "Tensão máxima (texto do catálogo)", "600 V", "Tensão Máxima: 600V"),
            F(OBS, "Proteção de arco (AFCI)", "sim", "Com AFCI"),
            F(OBS, "Garantia (texto do catálogo)", "10 anos", "Garantia: 10 anos"),
        ],
        fmt="pdf", cec_mfr=("livoltek",), cec_model="GT1-6KD2",
    ),
    Product(
        slug="livoltek-gt1-5kd2", category="inverter", manufacturer="Livoltek", model="GT1-5KD2",
        product_name="Inversor On Grid Livoltek 5kW 220V Monofásico - GT1-5KD2",
        upstream=[(INV, "neosolar_inverters_24870"), (INV, "neosolar_inverters_24877")],
        facts=[
            F(GER, "Tipo", "on-grid (string)", "Inversor On Grid Livoltek 5kW"),
            F(CA, "Potência nominal CA", "5 kW", "Livoltek 5kW 220V"),
            F(CA, "Fases", "monofásico", "220V Monofásico - GT1-5KD2"),
            F(CA, "Tensão CA", "220 V", "5kW 220V Monofásico"),
            F(CC, "Número de MPPTs", "2", "2 MPPTS (16A + 16A)"),
            F(CC, "Corrente máx. de entrada por MPPT", "16 A + 16 A", "2 MPPTS (16A + 16A)"),
        ],
        fmt="md", cec_mfr=("livoltek",), cec_model="GT1-5KD2",
        notes=["O texto do catálogo para PVmax está truncado (\"PVmax: 7\"); o valor não é "
               "reproduzido aqui."],
    ),
    Product(
        slug="livoltek-gt1-10kt2", category="inverter", manufacturer="Livoltek",
        model="GT1-10KT2",
        product_name="Inversor On Grid Livoltek 10kW 220V Monofásico - GT1-10KT2",
        upstream=[(INV, "neosolar_inverters_24872")],
        facts=[
            F(GER, "Tipo", "on-grid (string)", "Inversor On Grid Livoltek 10kW"),
            F(CA, "Potência nominal CA", "10 kW", "Livoltek 10kW 220V"),
            F(CA, "Fases", "monofásico", "220V Monofásico - GT1-10KT2"),
            F(CA, "Tensão CA", "220 V", "10kW 220V Monofásico"),
            F(CC, "Número de MPPTs", "3", "3 MPPTS (16A + 16A + 16A)"),
            F(CC, "Corrente máx. de entrada por MPPT", "16 A + 16 A + 16 A",
              "3 MPPTS (16A + 16A + 16A)"),
            F(CC, "Potência FV máxima (PVmax)", "15 kW", "PVmax: 15kW"),
            F(CC, "Tensão máxima (texto do catálogo)", "600 V", "Tensão Máxima: 600V"),
            F(OBS, "Proteção de arco (AFCI)", "sim", "Com AFCI"),
            F(OBS, "Garantia (texto do catálogo)", "10 anos", "Garantia: 10 anos"),
        ],
        fmt="pdf", cec_mfr=("livoltek",), cec_model="GT1-10KT2",
    ),
    _odex_inv("chint-nxi-3.0k-t2", "Chint", "NXI-3.0K-T2", "odex_inverters_ODEX-INV-CHINT-3000W",
              "Inversor Grid-Tie Chint NXI-3.0K-T2 3kW Monofásico 220V 2 MPPT", "3 kW",
              "monofásico", "220 V", "2", "grid-tie (string)", "md", 1, ("chint",)),
    _odex_inv("chint-nxi-5.0k-t2", "Chint", "NXI-5.0K-T2", "odex_inverters_ODEX-INV-CHINT-5000W",
              "Inversor Grid-Tie Chint NXI-5.0K-T2 5kW Monofásico 220V 2 MPPT", "5 kW",
              "monofásico", "220 V", "2", "grid-tie (string)", "pdf", 2, ("chint",)),
    _odex_inv("chint-nxi-8.0k-t3", "Chint", "NXI-8.0K-T3", "odex_inverters_ODEX-INV-CHINT-8000W",
              "Inversor Grid-Tie Chint NXI-8.0K-T3 8kW Trifásico 380V 2 MPPT", "8 kW",
              "trifásico", "380 V", "2", "grid-tie (string)", "md", 1, ("chint",)),
    _odex_inv("chint-nxi-10k-t3", "Chint", "NXI-10K-T3", "odex_inverters_ODEX-INV-CHINT-10000W",
              "Inversor Grid-Tie Chint NXI-10K-T3 10kW Trifásico 380V 2 MPPT", "10 kW",
              "trifásico", "380 V", "2", "grid-tie (string)", "pdf", 2, ("chint",)),
    _odex_inv("saj-r5-3k-t2", "SAJ", "R5-3K-T2", "odex_inverters_ODEX-INV-SAJ-3000W",
              "Inversor Grid-Tie SAJ R5-3K-T2 BRL 3kW Monofásico 220V 2 MPPT", "3 kW",
              "monofásico", "220 V", "2", "grid-tie (string)", "md", 1, ("saj",)),
    _odex_inv("saj-r5-8k-t2", "SAJ", "R5-8K-T2", "odex_inverters_ODEX-INV-SAJ-8000W",
              "Inversor Grid-Tie SAJ R5-8K-T2 BRL 8kW Bifásico 220V 2 MPPT", "8 kW",
              "bifásico", "220 V", "2", "grid-tie (string)", "pdf", 2, ("saj",)),
    _odex_inv("saj-r5-10k-t2", "SAJ", "R5-10K-T2", "odex_inverters_ODEX-INV-SAJ-10000W",
              "Inversor Grid-Tie SAJ R5-10K-T2 BRL 10kW Trifásico 380V 2 MPPT", "10 kW",
              "trifásico", "380 V", "2", "grid-tie (string)", "md", 1, ("saj",)),
    _odex_inv("saj-r5-15k-t2", "SAJ", "R5-15K-T2", "odex_inverters_ODEX-INV-SAJ-15000W",
              "Inversor Grid-Tie SAJ R5-15K-T2 BRL 15kW Trifásico 380V 2 MPPT", "15 kW",
              "trifásico", "380 V", "2", "grid-tie (string)", "md", 1, ("saj",)),
    _odex_inv("growatt-min-3000tl-x", "Growatt", "MIN 3000TL-X",
              "odex_inverters_ODEX-INV-GROWATT-3000W",
              "Inversor Grid-Tie Growatt MIN 3000TL-X 3kW Monofásico 220V 2 MPPT", "3 kW",
              "monofásico", "220 V", "2", "grid-tie (string)", "pdf", 2, ("growatt",)),
    _odex_inv("growatt-mod-10ktl3-xh", "Growatt", "MOD 10KTL3-XH",
              "odex_inverters_ODEX-INV-GROWATT-10000W",
              "Inversor Grid-Tie Growatt MOD 10KTL3-XH 10kW Trifásico 380V 2 MPPT", "10 kW",
              "trifásico", "380 V", "2", "grid-tie (string)", "md", 1, ("growatt",)),
    _odex_inv("growatt-max-50ktl3-xh", "Growatt", "MAX 50KTL3-XH",
              "odex_inverters_ODEX-INV-GROWATT-50000W",
              "Inversor Grid-Tie Growatt MAX 50KTL3-XH 50kW Trifásico 380V 4 MPPT", "50 kW",
              "trifásico", "380 V", "4", "grid-tie (string)", "pdf", 2, ("growatt",)),
    _odex_inv("growatt-max-100ktl3-xh", "Growatt", "MAX 100KTL3-XH",
              "odex_inverters_ODEX-INV-GROWATT-100000W",
              "Inversor Grid-Tie Growatt MAX 100KTL3-XH 100kW Trifásico 380V 8 MPPT", "100 kW",
              "trifásico", "380 V", "8", "grid-tie (string)", "md", 1, ("growatt",)),
    _odex_inv("sofar-5k-tl-g4", "Sofar", "5K-TL-G4", "odex_inverters_ODEX-INV-SOFAR-5000W",
              "Inversor Grid-Tie Sofar 5K-TL-G4 5kW Monofásico 220V 2 MPPT", "5 kW",
              "monofásico", "220 V", "2", "grid-tie (string)", "md", 1, ("sofar",)),
    _solf_inv("huawei-sun2000-3ktl-l1", "Huawei", "SUN2000-3KTL-L1", ["solfacil_inverters_7"],
              "INVERSOR FOTOVOLTAICO SUN2000-3KTL-L1 - AFCI EX 3KW HUAWEI MONO 220V",
              "3 kW", "monofásico", "220 V", "inversor fotovoltaico (string)", "pdf", 2,
              ("huawei",), extra=[F(OBS, "Proteção de arco (AFCI)", "sim",
                                    "SUN2000-3KTL-L1 - AFCI")],
              notes=["O banco CEC traz apenas modelos Huawei SUN2000 para a rede dos EUA "
                     "(sufixo US); não há entrada SUN2000-3KTL-L1."]),
    _solf_inv("huawei-sun2000-12k-mb0", "Huawei", "SUN2000-12K-MB0", ["solfacil_inverters_18"],
              "INVERSOR FOTOVOLTAICO SUN2000-12K-MB0 - AFCI EX 12KW HUAWEI TRI 380V",
              "12 kW", "trifásico", "380 V", "inversor fotovoltaico (string)", "md", 1,
              ("huawei",), extra=[F(OBS, "Proteção de arco (AFCI)", "sim",
                                    "SUN2000-12K-MB0 - AFCI")]),
    _solf_inv("goodwe-gw10k-ms-g40", "GoodWe", "GW10K-MS-G40",
              ["solfacil_inverters_14", "solfacil_inverters_15"],
              "INVERSOR FOTOVOLTAICO GW10K-MS-G40 - AFCI EX SUL 10KW GOODWE MONO 220V",
              "10 kW", "monofásico", "220 V", "inversor fotovoltaico (string)", "md", 1,
              ("goodwe",), extra=[F(OBS, "Proteção de arco (AFCI)", "sim",
                                    "GW10K-MS-G40 - AFCI")],
              notes=["A listagem solfacil_inverters_15 é a mesma referência com a indicação "
                     "\"C/ RSD\" no nome."]),
    _solf_inv("deye-sun-5k-g", "Deye", "SUN-5K-G", ["solfacil_inverters_4"],
              "INVERSOR FOTOVOLTAICO SUN-5K-G EX 5KW DEYE MONO 220V",
              "5 kW", "monofásico", "220 V", "inversor fotovoltaico (string)", "md", 1,
              ("deye",)),
    # ---- híbridos ----------------------------------------------------------------------
    _odex_inv("deye-sun-5k-sg05lp1-eu", "Deye", "SUN-5K-SG05LP1-EU",
              "odex_inverters_ODEX-INV-DEYE-5000W",
              "Inversor Híbrido Deye SUN-5K-SG05LP1-EU 5kW Monofásico 220V 48V 2 MPPT", "5 kW",
              "monofásico", "220 V", "2", "híbrido", "pdf", 2, ("deye",),
              extra=[F(OBS, "Outra tensão citada no nome", "48 V (função não especificada "
                       "pela fonte)", "220V 48V 2 MPPT")]),
    _odex_inv("solax-x3-hybrid-10.0-d", "SolaX", "X3-Hybrid-10.0-D",
              "odex_inverters_ODEX-INV-SOLAX-10000W",
              "Inversor Híbrido SolaX X3-Hybrid-10.0-D 10kW Trifásico 380V 96V 2 MPPT", "10 kW",
              "trifásico", "380 V", "2", "híbrido", "md", 1, ("solax",),
              extra=[F(OBS, "Outra tensão citada no nome", "96 V (função não especificada "
                       "pela fonte)", "380V 96V 2 MPPT")]),
    _odex_inv("growatt-sph-5000", "Growatt", "SPH 5000", "odex_inverters_ODEX-INV-GROWATT-5000W",
              "Inversor Híbrido Growatt SPH 5000 5kW Monofásico 220V 48V 2 MPPT", "5 kW",
              "monofásico", "220 V", "2", "híbrido", "md", 1, ("growatt",),
              extra=[F(OBS, "Outra tensão citada no nome", "48 V (função não especificada "
                       "pela fonte)", "220V 48V 2 MPPT")]),
    _solf_inv("goodwe-gw6000-es-br20", "GoodWe", "GW6000-ES-BR20",
              ["solfacil_inverters_44", "solfacil_inverters_45", "solfacil_inverters_30"],
              "INVERSOR FOTOVOLTAICO (ATIVO) GW6000-ES-BR20 - AFCI 6KW GOODWE HIBRIDO MONO 220V",
              "6 kW", "monofásico", "220 V", "híbrido", "pdf", 2, ("goodwe",),
              extra=[F(OBS, "Proteção de arco (AFCI)", "sim", "GW6000-ES-BR20 - AFCI")]),
    Product(
        slug="deye-sun8k-eu-hibrido", category="inverter", manufacturer="Deye", model="SUN8K (EU)",
        product_name="Inversor Híbrido On + Off Grid Deye SUN8K (EU) - 8000W - 48/220-230V",
        upstream=[(INV, "neosolar_inverters_22921")],
        facts=[
            F(GER, "Tipo", "híbrido on + off grid", "Inversor Híbrido On + Off Grid Deye SUN8K"),
            F(CA, "Potência nominal CA", "8000 W", "SUN8K (EU) - 8000W"),
            F(CA, "Tensão CA", "220-230 V", "48/220-230V"),
            F(CA, "Fases", NI, "SUN8K (EU)"),
            F(OBS, "Tensão de bateria", "48 Vcc", "entrada para bateria 48Vcc"),
            F(OBS, "Funções (texto do catálogo)", "\"2 em 1 (Inversor + carregador de "
              "bateria)\"", "função 2 em 1 (Inversor + carregador de bateria)"),
        ],
        fmt="md", cec_mfr=("deye",), cec_model="SUN8K",
    ),
    # ---- off-grid / inversor-carregador ------------------------------------------------
    Product(
        slug="must-pv29-5048-hp", category="inverter", manufacturer="Must", model="PV29-5048 HP",
        product_name="Inversor Carregador Must PV29-5048 HP - 5000W - MPPT 80A - 48/220V",
        upstream=[(INV, "neosolar_inverters_24972")],
        facts=[
            F(GER, "Tipo", "inversor carregador (off-grid)", "Inversor Carregador Must"),
            F(CA, "Potência nominal CA", "5000 W", "PV29-5048 HP - 5000W"),
            F(CA, "Potência de surto", "15.000 W", "P. Surto: 15.000W"),
            F(CA, "Tensão CA", "220 V", "48/220V"),
            F(CC, "Faixa de tensão MPPT", "30 a 230 V", "Faixa MPPT: 30 ~ 230V"),
            F(CC, "Corrente do controlador MPPT", "80 A", "MPPT 80A"),
            F(OBS, "Tensão de bateria", "48 V", "48/220V"),
            F(OBS, "Baterias de lítio", "compatível (texto do catálogo)", "Compatível com Lítio"),
        ],
        fmt="pdf", cec_mfr=("must",), cec_model="PV29-5048",
        notes=["Existe também a versão PV29-5048 LHP (48/110V, neosolar_inverters_24973), "
               "que não é coberta por esta folha."],
    ),
    Product(
        slug="epever-hp3522", category="inverter", manufacturer="Epever", model="HP3522",
        product_name="Inversor Carregador Epever HP3522 - 110A MPPT - 24/220V",
        upstream=[(INV, "neosolar_inverters_23782")],
        facts=[
            F(GER, "Tipo", "inversor carregador (off-grid)", "Inversor Carregador Epever HP3522"),
            F(CA, "Potência de surto", "3.500 W", "P. Surto: 3.500W"),
            F(CA, "Tensão CA", "220 V", "24/220V"),
            F(CC, "Faixa de tensão MPPT", "85 a 400 V", "Faixa MPPT: 85 ~ 400V"),
            F(CC, "Corrente do controlador MPPT", "110 A", "110A MPPT"),
            F(OBS, "Tensão de bateria", "24 V", "24/220V"),
            F(OBS, "Paralelismo", "até 16 unidades", "Paralelismo: Máx. 16 un"),
            F(OBS, "Baterias de lítio", "compatível (texto do catálogo)", "Compatível c/ Lítio"),
        ],
        fmt="md", cec_mfr=("epever",), cec_model="HP3522",
    ),
]

PRODUCTS: list[Product] = sorted(MODULES + INVERTERS, key=lambda p: p.slug)

# --------------------------------------------------------------------------------------
# Catalog loading and evidence checks
# --------------------------------------------------------------------------------------


def _norm_text(s: str) -> str:
    return re.sub(r"\s+", " ", str(s)).strip().casefold()


def load_row_texts(catalog: Path) -> dict[tuple[str, str], str]:
    """(file, id) -> concatenated text fields of every row with that id."""
    out: dict[tuple[str, str], list[str]] = {}
    for fname in (P, INV, KIT):
        rows = json.loads((catalog / fname).read_text(encoding="utf-8"))
        for r in rows:
            if not isinstance(r, dict) or "id" not in r:
                continue
            parts = [str(r.get(k) or "") for k in ("name", "description", "price", "model")]
            for comp in ("panels", "inverters"):
                for item in r.get(comp) or []:
                    if isinstance(item, dict):
                        parts.append(str(item.get("description") or ""))
            out.setdefault((fname, r["id"]), []).extend(parts)
    return {k: _norm_text(" || ".join(v)) for k, v in out.items()}


def check_evidence(products: list[Product], texts: dict[tuple[str, str], str]) -> list[str]:
    errors = []
    for p in products:
        for ref in p.upstream:
            if ref not in texts:
                errors.append(f"{p.slug}: row {ref} not in export")
        blob = " ## ".join(texts.get(ref, "") for ref in p.upstream)
        for f in p.facts:
            if f.value == NI:
                continue
            if _norm_text(f.evidence) not in blob:
                errors.append(f"{p.slug}: evidence {f.evidence!r} for {f.label!r} not found")
    return errors


# --------------------------------------------------------------------------------------
# CEC lookup (conservative)
# --------------------------------------------------------------------------------------


def _alnum(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", s.lower())


def cec_match(p: Product, cec_mod, cec_inv):
    """Return (entry name, series) or (None, reason)."""
    if not p.cec_model:
        return None, "sem código de modelo no catálogo"
    key = _alnum(p.cec_model)
    if len(key) < 5 or not re.search(r"\d", key):
        return None, "código de modelo curto demais para casar com segurança"
    db = cec_mod if p.category == "module" else cec_inv
    hits = [c for c in db.columns
            if key in _alnum(c) and any(_alnum(t) in _alnum(c) for t in p.cec_mfr)]
    if len(hits) != 1:
        return None, ("nenhuma entrada com o mesmo fabricante e código de modelo"
                      if not hits else f"{len(hits)} entradas candidatas: ambíguo, não usado")
    return hits[0], db[hits[0]]


def _fmt_num(x: float, nd: int) -> str:
    s = f"{x:,.{nd}f}"
    return s.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def cec_facts(p: Product, s) -> list[F]:
    """Facts from a CEC entry (code path used only when an exact match exists)."""
    ev = "CEC"
    if p.category == "module":
        voc, isc = float(s["V_oc_ref"]), float(s["I_sc_ref"])
        facts = [
            F(EL, "Potência máxima (Pmax, STC)", f"{_fmt_num(float(s['STC']), 1)} W", ev),
            F(EL, "Tensão de circuito aberto (Voc)", f"{_fmt_num(voc, 2)} V", ev),
            F(EL, "Corrente de curto-circuito (Isc)", f"{_fmt_num(isc, 2)} A", ev),
            F(EL, "Tensão de máxima potência (Vmp)", f"{_fmt_num(float(s['V_mp_ref']), 2)} V", ev),
            F(EL, "Corrente de máxima potência (Imp)", f"{_fmt_num(float(s['I_mp_ref']), 2)} A", ev),
            F(EL, "Tecnologia da célula", str(s["Technology"]), ev),
            F(TEMP, "Coef. de temperatura de Voc (beta_Voc)",
              f"{_fmt_num(float(s['beta_oc']) / voc * 100, 3)} %/°C", ev),
            F(TEMP, "Coef. de temperatura de Isc (alpha_Isc)",
              f"{_fmt_num(float(s['alpha_sc']) / isc * 100, 3)} %/°C", ev),
            F(TEMP, "Coef. de temperatura de Pmax (gamma_Pmp)",
              f"{_fmt_num(float(s['gamma_r']), 3)} %/°C", ev),
            F(TEMP, "NOCT", f"{_fmt_num(float(s['T_NOCT']), 1)} °C", ev),
            F(MEC, "Número de células em série", str(int(float(s["N_s"]))), ev),
        ]
        if str(s.get("Length", "")) not in ("", "nan") and str(s.get("Width", "")) not in ("", "nan"):
            facts.append(F(MEC, "Dimensões (C × L)",
                           f"{_fmt_num(float(s['Length']), 3)} m × {_fmt_num(float(s['Width']), 3)} m", ev))
        facts.append(F(MEC, "Área", f"{_fmt_num(float(s['A_c']), 3)} m²", ev))
        return facts
    paco, pdco = float(s["Paco"]), float(s["Pdco"])
    return [
        F(CA, "Potência nominal CA (Paco)", f"{_fmt_num(paco, 0)} W", ev),
        F(CA, "Tensão CA de ensaio (Vac)", f"{_fmt_num(float(s['Vac']), 0)} V", ev),
        F(CA, "Eficiência nominal (Paco/Pdco)", f"{_fmt_num(paco / pdco * 100, 1)} %", ev),
        F(CA, "Consumo em operação mínima (Pso)", f"{_fmt_num(float(s['Pso']), 1)} W", ev),
        F(CC, "Potência CC nominal (Pdco)", f"{_fmt_num(pdco, 0)} W", ev),
        F(CC, "Tensão CC máxima (Vdcmax)", f"{_fmt_num(float(s['Vdcmax']), 0)} V", ev),
        F(CC, "Faixa de tensão MPPT",
          f"{_fmt_num(float(s['Mppt_low']), 0)} a {_fmt_num(float(s['Mppt_high']), 0)} V", ev),
        F(CC, "Corrente CC máxima (Idcmax)", f"{_fmt_num(float(s['Idcmax']), 1)} A", ev),
    ]


# --------------------------------------------------------------------------------------
# Layout: the same sections and rows for every datasheet of a category
# --------------------------------------------------------------------------------------

MODULE_LAYOUT = [
    (EL, "Características elétricas (STC)", [
        "Potência máxima (Pmax, STC)", "Tensão de circuito aberto (Voc)",
        "Corrente de curto-circuito (Isc)", "Tensão de máxima potência (Vmp)",
        "Corrente de máxima potência (Imp)", "Eficiência do módulo (no nome do produto)",
        "Tecnologia da célula", "Bifacial"]),
    (TEMP, "Coeficientes de temperatura", [
        "Coef. de temperatura de Voc (beta_Voc)", "Coef. de temperatura de Isc (alpha_Isc)",
        "Coef. de temperatura de Pmax (gamma_Pmp)", "NOCT"]),
    (MEC, "Características mecânicas", [
        "Número de células", "Número de células em série", "Dimensões (C × L)", "Área",
        "Moldura", "Peso"]),
]
INVERTER_LAYOUT = [
    (CC, "Entrada CC / MPPT", [
        "Número de MPPTs", "Corrente máx. de entrada por MPPT", "Potência FV máxima (PVmax)",
        "Tensão máxima (texto do catálogo)", "Tensão CC máxima (Vdcmax)",
        "Faixa de tensão MPPT", "Corrente CC máxima (Idcmax)", "Potência CC nominal (Pdco)",
        "Módulos por microinversor", "Entradas (texto do catálogo)",
        "Corrente do controlador MPPT"]),
    (CA, "Saída CA", [
        "Potência nominal CA", "Potência nominal CA (potência contínua)",
        "Potência nominal CA (Paco)", "Potência de surto", "Fases", "Tensão CA",
        "Tensão CA de ensaio (Vac)", "Eficiência nominal (Paco/Pdco)",
        "Consumo em operação mínima (Pso)"]),
    (MEC, "Características mecânicas", ["Dimensões", "Peso", "Grau de proteção"]),
]
# rows that are printed even when no source gives them (others appear only when given)
ALWAYS = {
    "module": {"Potência máxima (Pmax, STC)", "Tensão de circuito aberto (Voc)",
               "Corrente de curto-circuito (Isc)", "Tensão de máxima potência (Vmp)",
               "Corrente de máxima potência (Imp)", "Eficiência do módulo (no nome do produto)",
               "Tecnologia da célula", "Bifacial",
               "Coef. de temperatura de Voc (beta_Voc)", "Coef. de temperatura de Isc (alpha_Isc)",
               "Coef. de temperatura de Pmax (gamma_Pmp)", "NOCT", "Número de células",
               "Dimensões (C × L)", "Moldura", "Peso"},
    "inverter": {"Número de MPPTs", "Tensão CC máxima (Vdcmax)", "Faixa de tensão MPPT",
                 "Corrente CC máxima (Idcmax)", "Potência nominal CA", "Fases", "Tensão CA",
                 "Eficiência nominal (Paco/Pdco)", "Dimensões", "Peso", "Grau de proteção"},
}


@dataclass
class Sheet:
    p: Product
    sections: list[tuple[str, list[tuple[str, str, str]]]]  # title, rows (label, value, src)
    extra: list[tuple[str, str, str]]  # GER/OBS rows
    cec_entry: str | None
    cec_reason: str
    cec_fields: list[str]
    pvlib_version: str


def build_sheet(p: Product, cec_mod, cec_inv, pvlib_version: str) -> Sheet:
    entry, s = cec_match(p, cec_mod, cec_inv)
    facts = list(p.facts)
    cec_fields: list[str] = []
    if entry is not None:
        cf = cec_facts(p, s)
        cec_fields = [f.label for f in cf]
        labels = {f.label for f in cf}
        # CEC electrical values replace catalog ones with the same label; both are kept in
        # the "Fonte dos dados" section through the manifest.
        facts = [f for f in facts if f.label not in labels] + cf
        reason = "mesmo fabricante e mesmo código de modelo"
    else:
        reason = s
    facts = [f for f in facts if f.value != NI]
    by_label: dict[str, F] = {}
    for f in facts:
        by_label.setdefault(f.label, f)
    layout = MODULE_LAYOUT if p.category == "module" else INVERTER_LAYOUT
    sections = []
    used = set()
    for key, title, labels in layout:
        rows = []
        for lab in labels:
            f = by_label.get(lab)
            if f is not None and f.section == key:
                rows.append((lab, f.value, "CEC" if f.evidence == "CEC" else "catálogo"))
                used.add(lab)
            elif lab in ALWAYS[p.category]:
                rows.append((lab, NI, "—"))
        # facts declared for this section but not in the layout list
        for f in facts:
            if f.section == key and f.label not in used and f.label not in labels:
                rows.append((f.label, f.value, "CEC" if f.evidence == "CEC" else "catálogo"))
                used.add(f.label)
        sections.append((title, rows))
    extra = [(f.label, f.value, "catálogo") for f in facts
             if f.section in (GER, OBS) and f.label not in used]
    return Sheet(p, sections, extra, entry, reason, cec_fields, pvlib_version)


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------

CATEGORY_PT = {"module": "módulo fotovoltaico", "inverter": "inversor"}


def _title(p: Product) -> str:
    return f"{p.manufacturer} {p.model} — Folha de dados"


def _summary(sh: Sheet) -> str:
    p = sh.p
    given = [f"{lab}: {val}" for _, rows in sh.sections for lab, val, src in rows
             if val != NI]
    given += [f"{lab}: {val}" for lab, val, _ in sh.extra if lab == "Tipo"]
    what = "; ".join(given) if given else "apenas o nome do produto"
    return (f"{CATEGORY_PT[p.category].capitalize()} {p.manufacturer} {p.model}, "
            f"vendido no catálogo YSH como \"{p.product_name}\". "
            f"Valores disponíveis nas fontes — {what}.")


def _source_lines(sh: Sheet) -> list[str]:
    p = sh.p
    ids = ", ".join(f"{rid} ({fname})" for fname, rid in p.upstream)
    lines = [
        f"Catálogo YSH (export \"unified_schemas\", licença MIT), linhas: {ids}. Foram usados "
        "apenas os textos das linhas (nome, descrição, lista de materiais); o bloco "
        "\"technical_specs\" do export, preenchido automaticamente e inconsistente, não foi usado.",
    ]
    if sh.cec_entry:
        lines.append(f"Banco de dados CEC de módulos/inversores (NREL SAM) distribuído com "
                     f"pvlib {sh.pvlib_version}: entrada \"{sh.cec_entry}\" "
                     f"({sh.cec_reason}). Campos vindos do CEC: {', '.join(sh.cec_fields)}.")
    else:
        lines.append(f"Banco de dados CEC (NREL SAM) distribuído com pvlib {sh.pvlib_version}: "
                     f"consultado, sem correspondência exata ({sh.cec_reason}); nenhum valor "
                     "elétrico vem do CEC.")
    lines.append("Campos marcados \"não informado pela fonte\" não constam de nenhuma das "
                 "fontes acima; consulte a folha de dados oficial do fabricante antes de "
                 "dimensionar strings ou proteções.")
    return lines


def _sizing_note(p: Product) -> str:
    if p.category == "module":
        return ("Para o dimensionamento de strings são necessários Voc, Vmp, Isc e o "
                "coeficiente beta_Voc do módulo: Voc(Tmin) = Voc_stc × (1 + beta_Voc × "
                "(Tmin − 25)) × módulos em série deve ficar abaixo da tensão CC máxima do "
                "inversor; Vmp a quente (célula ≈ 70 °C) × módulos em série deve ficar acima "
                "do mínimo do MPPT; Isc × 1,25 deve ficar abaixo da corrente máxima da entrada. "
                "Quando esses valores constam acima como não informados, eles precisam vir da "
                "folha oficial do fabricante.")
    return ("Para o dimensionamento de strings são necessários a tensão CC máxima, a faixa de "
            "tensão MPPT e a corrente máxima por entrada: Voc(Tmin) × módulos em série ≤ "
            "tensão CC máxima; Vmp a quente × módulos em série ≥ mínimo do MPPT; Isc × 1,25 ≤ "
            "corrente máxima da entrada MPPT. Quando esses valores constam acima como não "
            "informados, eles precisam vir da folha oficial do fabricante.")


def write_markdown(sh: Sheet, path: Path) -> None:
    p = sh.p

    def q(s: str) -> str:
        return json.dumps(s, ensure_ascii=False)

    out = ["---",
           f"title: {q(_title(p))}",
           f"manufacturer: {q(p.manufacturer)}",
           f"model: {q(p.model)}",
           f"category: {p.category}",
           f"product_name: {q(p.product_name)}",
           "upstream_ids: [" + ", ".join(q(i) for i in p.upstream_ids) + "]",
           f"cec_entry: {q(sh.cec_entry) if sh.cec_entry else 'null'}",
           f"sources: [{q('catalog export (MIT)')}, {q('CEC database via pvlib ' + sh.pvlib_version)}]",
           "---", "",
           f"# {_title(p)}", "",
           f"**Produto no catálogo:** {p.product_name}  ",
           f"**IDs upstream:** {', '.join(p.upstream_ids)}  ",
           f"**Categoria:** {CATEGORY_PT[p.category]}", "",
           "## Resumo", "", _summary(sh), ""]
    if sh.extra:
        out += ["## Identificação e características gerais", "",
                "| Parâmetro | Valor | Fonte |", "|---|---|---|"]
        out += [f"| {a} | {b} | {c} |" for a, b, c in sh.extra]
        out.append("")
    for title, rows in sh.sections:
        out += [f"## {title}", "", "| Parâmetro | Valor | Fonte |", "|---|---|---|"]
        out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        out.append("")
    out += ["## Notas para dimensionamento", "", _sizing_note(p), ""]
    if p.notes:
        out += ["## Observações", ""] + [f"- {n}" for n in p.notes] + [""]
    out += ["## Fonte dos dados", ""] + [f"- {ln}" for ln in _source_lines(sh)] + [""]
    path.write_text("\n".join(out), encoding="utf-8")


def write_pdf(sh: Sheet, path: Path) -> int:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table,
                                    TableStyle)
    from xml.sax.saxutils import escape

    p = sh.p
    ss = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=ss["BodyText"], fontName="Helvetica", fontSize=9.5,
                          leading=12.5)
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11)
    h1 = ParagraphStyle("h1", parent=ss["Heading1"], fontName="Helvetica-Bold", fontSize=16)
    h2 = ParagraphStyle("h2", parent=ss["Heading2"], fontName="Helvetica-Bold", fontSize=12,
                        spaceBefore=8, spaceAfter=4)
    cell = ParagraphStyle("cell", parent=body, fontSize=9, leading=11)

    def table(rows, widths):
        data = [[Paragraph(escape(str(c)), cell) for c in r] for r in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F2B705")),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        return t

    W = [72 * mm, 72 * mm, 26 * mm]
    head = ["Parâmetro", "Valor", "Fonte"]
    story = [Paragraph(escape(_title(p)), h1)]
    meta_rows = [["Campo", "Valor"],
                 ["Produto no catálogo", p.product_name],
                 ["IDs upstream", ", ".join(p.upstream_ids)],
                 ["Fabricante", p.manufacturer], ["Modelo", p.model],
                 ["Categoria", f"{p.category} ({CATEGORY_PT[p.category]})"]]
    story += [table(meta_rows, [45 * mm, 125 * mm]), Spacer(1, 4 * mm),
              Paragraph("Resumo", h2), Paragraph(escape(_summary(sh)), body)]
    if sh.extra:
        story += [Paragraph("Identificação e características gerais", h2),
                  table([head] + [list(r) for r in sh.extra], W)]
    # page 1: electrical table(s); page 2: the rest
    first = sh.sections[:1] if p.category == "module" else sh.sections[:2]
    rest = sh.sections[len(first):]
    for title, rows in first:
        story += [Paragraph(escape(title), h2), table([head] + [list(r) for r in rows], W)]
    story.append(PageBreak())
    for title, rows in rest:
        story += [Paragraph(escape(title), h2), table([head] + [list(r) for r in rows], W)]
    story += [Paragraph("Notas para dimensionamento", h2), Paragraph(escape(_sizing_note(p)), body)]
    if p.notes:
        story += [Paragraph("Observações", h2)] + [Paragraph("• " + escape(n), body)
                                                   for n in p.notes]
    story += [Paragraph("Fonte dos dados", h2)] + [Paragraph("• " + escape(ln), small)
                                                   for ln in _source_lines(sh)]

    page_count = {"n": 0}

    def on_page(canvas, doc):
        page_count["n"] = doc.page
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.drawString(18 * mm, 10 * mm,
                          f"{p.manufacturer} {p.model} — folha gerada a partir do catálogo YSH "
                          f"e do banco CEC (pvlib {sh.pvlib_version}) — página {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=18 * mm, invariant=1, title=_title(p), author="YSH / Hélio",
        subject=f"category={p.category}; product_name={p.product_name}; "
                f"upstream_ids={','.join(p.upstream_ids)}",
        keywords=[f"category:{p.category}", f"manufacturer:{p.manufacturer}",
                  f"model:{p.model}"] + [f"upstream_id:{i}" for i in p.upstream_ids],
        creator="scripts/build_datasheets.py", producer="ReportLab (invariant)",
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return page_count["n"]


PROVENANCE_HEAD = """# Proveniência das folhas de dados

Estas folhas de dados foram **geradas** por `scripts/build_datasheets.py`; não são cópias de
documentos de fabricantes. Cada valor vem de uma destas fontes:

1. **Export do catálogo YSH** (`own-boldsbrain/ysh-b2b`, `backend/data/catalog/unified_schemas/`,
   commit 5cc83cd, licença MIT; raspado dos portais Neosolar, Solfácil, ODEX e FOTUS em
   out/2025). Só o texto das linhas é usado (nome, descrição, o campo `price` das linhas
   Solfácil, que traz o nome real do produto, e a lista de materiais dos kits). Para cada valor
   o gerador guarda o trecho literal de onde ele foi lido e falha se o trecho não existir na
   linha. O bloco `technical_specs` do export não é usado (enriquecimento automático com
   erros conhecidos). Preços e distribuidores não são conteúdo de folha de dados.
2. **Banco de dados CEC** de módulos e inversores (California Energy Commission, distribuído
   pelo NREL System Advisor Model; dados públicos) na cópia que acompanha o pvlib
   ({pvlib}: `sam-library-cec-modules-2019-03-05.csv`, `sam-library-cec-inverters-2019-03-05.csv`).
   Um produto só recebe valores do CEC quando há **uma única** entrada com o mesmo fabricante
   e o mesmo código de modelo (normalizado). Produtos sem código de modelo nunca são casados.

Campos que nenhuma fonte informa aparecem como "não informado pela fonte".

## Resultado desta geração

- Folhas: {n_total} ({n_mod} módulos, {n_inv} inversores); {n_pdf} PDF ({n_pdf2} com 2 páginas), {n_md} Markdown.
- Folhas com valores do CEC: {n_cec}.
- Por que tão poucas correspondências no CEC: o banco distribuído com o pvlib é de 2019 e vai
  até ≈510 W por módulo, enquanto todos os módulos do catálogo têm 545–710 W; os inversores do
  catálogo são versões para o mercado brasileiro/europeu (Deye, Growatt MIN/MOD/MAX, SAJ,
  Chint NXI, GoodWe, Huawei -L1/-MB0, Enphase -BR), e o CEC só traz versões para a rede dos EUA
  (sufixos US, 208/240/480 V). Parecido não é igual: nenhuma entrada foi usada por semelhança.

A lista completa — arquivo, nome do produto, IDs upstream, campos do catálogo e do CEC — está em
`manifest.json`.

## Arquivos

| arquivo | produto (catálogo) | IDs upstream | CEC |
|---|---|---|---|
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "knowledge" / "datasheets")
    ap.add_argument("--check", action="store_true", help="only check evidence and CEC matches")
    args = ap.parse_args(argv)

    catalog = args.catalog
    if catalog is None:
        cands = [os.environ.get("HELIO_UPSTREAM_CATALOG"), ROOT / "data" / "catalog" / "upstream",
                 ROOT.parent / "shared" / "data" / "upstream-catalog"]
        catalog = next((Path(c) for c in cands if c and (Path(c) / INV).exists()), None)
    if catalog is None or not (catalog / INV).exists():
        print("catalog export not found (use --catalog)", file=sys.stderr)
        return 2

    texts = load_row_texts(catalog)
    errors = check_evidence(PRODUCTS, texts)
    slugs = [p.slug for p in PRODUCTS]
    if len(set(slugs)) != len(slugs):
        errors.append("duplicate slugs")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1

    import pvlib

    cec_mod = pvlib.pvsystem.retrieve_sam("CECMod")
    cec_inv = pvlib.pvsystem.retrieve_sam("CECInverter")
    ver = pvlib.__version__
    sheets = [build_sheet(p, cec_mod, cec_inv, ver) for p in PRODUCTS]
    if args.check:
        for sh in sheets:
            print(f"{sh.p.slug:40s} CEC={sh.cec_entry or '-'} ({sh.cec_reason})")
        return 0

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    wanted = {sh.p.filename for sh in sheets}
    for old in sorted(out.iterdir()):
        if old.suffix in (".pdf", ".md") and old.name not in wanted and old.name != "PROVENANCE.md":
            old.unlink()
    manifest = []
    for sh in sheets:
        p = sh.p
        path = out / p.filename
        if p.fmt == "pdf":
            pages = write_pdf(sh, path)
        else:
            write_markdown(sh, path)
            pages = None
        manifest.append({
            "file": p.filename,
            "key": f"datasheets/{p.filename}",
            "category": p.category,
            "format": p.fmt,
            "pages": pages,
            "title": _title(p),
            "manufacturer": p.manufacturer,
            "model": p.model,
            "product_name": p.product_name,
            "upstream_ids": p.upstream_ids,
            "upstream_rows": [{"file": f, "id": i} for f, i in p.upstream],
            "catalog_fields": [{"label": f.label, "value": f.value, "evidence": f.evidence}
                               for f in p.facts if f.value != NI],
            "cec_entry": sh.cec_entry,
            "cec_match_note": sh.cec_reason,
            "cec_fields": sh.cec_fields,
            "pvlib_version": ver,
        })
    (out / "manifest.json").write_text(
        json.dumps({"generator": "scripts/build_datasheets.py", "pvlib_version": ver,
                    "datasheets": manifest}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8")
    n_pdf = sum(1 for m in manifest if m["format"] == "pdf")
    prov = PROVENANCE_HEAD.format(
        pvlib=f"pvlib {ver}", n_total=len(manifest),
        n_mod=sum(1 for m in manifest if m["category"] == "module"),
        n_inv=sum(1 for m in manifest if m["category"] == "inverter"),
        n_pdf=n_pdf, n_pdf2=sum(1 for m in manifest if m["pages"] == 2),
        n_md=len(manifest) - n_pdf, n_cec=sum(1 for m in manifest if m["cec_entry"]))
    for m in manifest:
        prov += (f"| {m['file']} | {m['product_name']} | {', '.join(m['upstream_ids'])} | "
                 f"{m['cec_entry'] or 'sem correspondência'} |\n")
    (out / "PROVENANCE.md").write_text(prov, encoding="utf-8")
    print(f"wrote {len(manifest)} datasheets to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
