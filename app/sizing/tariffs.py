"""Residential tariff of a site: its distribution company, TE + TUSD, Fio B and taxes.

Data: ``data/tariffs/aneel_residencial.json`` (built by ``build_aneel_tariffs.py``; ANEEL's
homologated B1 tariffs of 102 companies, without taxes). How a site gets its company:

1. the company the user names (``tariff.distributor``: "Cemig", "cemig-d", "Equatorial PI");
2. the company of the municipality, for the large cities listed in the data file;
3. otherwise the state's largest company — said in the assumptions, since cooperatives
   and small companies serve parts of many states.

Taxes are an assumption (``impostos`` in the data file): the state's modal ICMS rate and
5.5 % PIS/COFINS, applied "por dentro" as on the bill: price with taxes = price /
(1 − ICMS − PIS/COFINS). Compensated energy is exempt from ICMS (Convênio ICMS 16/2015) and
PIS/COFINS (Lei 13.169/2015), so savings scale with the taxed price.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from app.core.errors import InvalidInput
from app.core.text import format_number, format_percent
from app.sizing.sites import Site, normalize_name

TARIFF_FILE = Path(__file__).resolve().parents[2] / "data" / "tariffs" / "aneel_residencial.json"


@dataclass(frozen=True)
class Tariff:
    """A residential tariff [R$/kWh]; ``energy`` and ``fio_b`` are before taxes."""

    energy_brl_per_kwh: float  # TE + TUSD
    fio_b_brl_per_kwh: float
    distributor: str
    source: str
    icms_pct: float = 0.0
    pis_cofins_pct: float = 0.0
    how_chosen: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def tax_factor(self) -> float:
        """Multiplier from a pre-tax to a billed price ("por dentro")."""
        return 1.0 / (1.0 - (self.icms_pct + self.pis_cofins_pct) / 100.0)

    @property
    def energy_with_taxes_brl_per_kwh(self) -> float:
        return self.energy_brl_per_kwh * self.tax_factor


@cache
def _data() -> dict:
    return json.loads(TARIFF_FILE.read_text(encoding="utf-8"))


def distributors() -> list[dict]:
    """Every company in the data file (id, nome, estados, TE/TUSD/Fio B [R$/kWh], alertas)."""
    return list(_data()["distribuidoras"])


@cache
def _index() -> dict[str, dict]:
    idx: dict[str, dict] = {}
    for d in _data()["distribuidoras"]:
        for key in (d["id"], normalize_name(d["nome"])):
            idx[key.replace("-", " ")] = d
    return idx


def find_distributor(name: str) -> dict:
    """A company by id or name, accent/case-insensitive, tolerant of suffixes ("Cemig" → Cemig-D)."""
    key = normalize_name(name).replace("-", " ")
    idx = _index()
    if key in idx:
        return idx[key]
    prefixed = sorted({d["id"] for k, d in idx.items() if k.split()[0] == key.split()[0] and key in k})
    if len(prefixed) == 1:
        return idx[prefixed[0].replace("-", " ")]
    starts = sorted({d["id"] for k, d in idx.items() if k.startswith(key)})
    if len(starts) == 1:
        return idx[starts[0].replace("-", " ")]
    import difflib

    close = difflib.get_close_matches(key, list(idx), n=5, cutoff=0.6)
    options = sorted({idx[c]["nome"] for c in close} | {idx[s.replace("-", " ")]["nome"] for s in starts})
    raise InvalidInput(
        f"Distribuidora não encontrada: {name!r}." if not starts else f"Distribuidora ambígua: {name!r}.",
        hint=("Talvez: " + ", ".join(options[:8]) + ". " if options else "")
        + "Use o nome da concessionária, por exemplo Cemig-D, Enel SP, Equatorial PI, Neoenergia Coelba.",
        field="tariff.distributor", suggestions=options[:8],
    )


def _taxes(uf: str) -> tuple[float, float]:
    t = _data()["impostos"]
    return float(t["icms_pct_por_uf"].get(uf.upper(), statistics.median(t["icms_pct_por_uf"].values()))), \
        float(t["pis_cofins_pct"])


def _rate(brl_per_kwh: float) -> str:
    """A tariff in R$/kWh as ANEEL publishes it, four decimals: "0,7234"."""
    return format_number(brl_per_kwh, decimals=4)


def _tariff(d: dict, uf: str, how: str, icms_pct: float | None, pis_cofins_pct: float | None) -> Tariff:
    icms, pis = _taxes(uf)
    warnings = tuple(f"Tarifa de {d['nome']}: {a}." for a in d["alertas"])
    return Tariff(
        energy_brl_per_kwh=round(d["te_brl_per_kwh"] + d["tusd_brl_per_kwh"], 5),
        fio_b_brl_per_kwh=d["tusd_fio_b_brl_per_kwh"], distributor=d["nome"],
        source=f"ANEEL, tarifa residencial B1 homologada de {d['nome']} (TE {_rate(d['te_brl_per_kwh'])} + TUSD "
               f"{_rate(d['tusd_brl_per_kwh'])} R$/kWh; Fio B {_rate(d['tusd_fio_b_brl_per_kwh'])}); data/tariffs",
        icms_pct=icms if icms_pct is None else icms_pct,
        pis_cofins_pct=pis if pis_cofins_pct is None else pis_cofins_pct, how_chosen=how, warnings=warnings)


def site_tariff(site: Site, distributor: str | None = None, *, icms_pct: float | None = None,
                pis_cofins_pct: float | None = None) -> Tariff:
    """The residential tariff that applies at ``site`` (see the module docstring for the order)."""
    for name, value, top in (("icms_pct", icms_pct, 40.0), ("pis_cofins_pct", pis_cofins_pct, 15.0)):
        if value is not None and not 0 <= value <= top:
            raise InvalidInput(f"Alíquota {name} fora de 0–{format_percent(top, decimals=0)}.", hint="Informe a alíquota em %, ex.: 18.",
                               field=f"tariff.{name}")
    data = _data()
    if distributor:
        d = find_distributor(distributor)
        served = d["estados"]
        how = f"distribuidora informada: {d['nome']}"
        if site.uf not in served:
            how += f" (atende {', '.join(served)}, não {site.uf}: confira)"
        return _tariff(d, site.uf, how, icms_pct, pis_cofins_pct)
    by_id = {d["id"]: d for d in data["distribuidoras"]}
    muni = data["municipios"].get(str(site.ibge_code))
    if muni:
        return _tariff(by_id[muni], site.uf, f"distribuidora do município {site.label}: {by_id[muni]['nome']}",
                       icms_pct, pis_cofins_pct)
    largest = data["maior_por_uf"].get(site.uf)
    if largest:
        d = by_id[largest]
        others = sum(1 for x in data["distribuidoras"] if site.uf in x["estados"]) - 1
        how = (f"maior distribuidora de {site.uf}: {d['nome']}"
               + (f" ({others} outras atendem partes do estado; informe tariff.distributor se for outra)"
                  if others else ""))
        return _tariff(d, site.uf, how, icms_pct, pis_cofins_pct)
    rows = data["distribuidoras"]
    median = {k: statistics.median(r[k] for r in rows) for k in ("te_brl_per_kwh", "tusd_brl_per_kwh",
                                                                 "tusd_fio_b_brl_per_kwh")}
    icms, pis = _taxes(site.uf)
    return Tariff(
        energy_brl_per_kwh=round(median["te_brl_per_kwh"] + median["tusd_brl_per_kwh"], 5),
        fio_b_brl_per_kwh=round(median["tusd_fio_b_brl_per_kwh"], 5), distributor="mediana nacional",
        source=f"mediana das {len(rows)} distribuidoras de data/tariffs (ANEEL)",
        icms_pct=icms if icms_pct is None else icms_pct, pis_cofins_pct=pis if pis_cofins_pct is None else pis_cofins_pct,
        how_chosen=f"nenhuma distribuidora de {site.uf} nos dados: mediana nacional; informe tariff.distributor ou a "
                   "tarifa",
    )


@dataclass(frozen=True)
class Prices:
    """What the billing model uses at a site [R$/kWh, with taxes], and how it was chosen."""

    energy_brl_per_kwh: float
    fio_b_brl_per_kwh: float
    bill_brl_per_kwh: float  # converts a bill in R$ into kWh
    tariff: Tariff
    energy_given: bool
    fio_b_given: bool

    def assumption(self, escalation_pct_per_year: float) -> str:
        t = self.tariff
        origin = ("TE+TUSD informada" if self.energy_given else f"{t.source}") + (
            "; Fio B informado" if self.fio_b_given else "")
        return (f"Tarifa com impostos: TE+TUSD R$ {_rate(self.energy_brl_per_kwh)}/kWh, Fio B R$ "
                f"{_rate(self.fio_b_brl_per_kwh)}/kWh ({origin}; {t.how_chosen}). Impostos (hipótese): ICMS "
                f"{format_percent(t.icms_pct, decimals=1)} + PIS/COFINS {format_percent(t.pis_cofins_pct, decimals=1)} "
                f"por dentro (×{format_number(t.tax_factor, decimals=3)}); energia compensada isenta (Convênio ICMS "
                f"16/2015, Lei 13.169/2015); sem bandeiras nem iluminação pública; reajuste "
                f"{format_percent(escalation_pct_per_year, decimals=1)}/ano.")


def resolve_prices(site: Site, tariff_input) -> Prices:
    """Prices at ``site`` for a request's ``tariff`` block (``app.sizing.models.TariffInput``).

    User-given TE+TUSD / Fio B (before taxes) win over the distributor's; taxes apply to both.
    """
    ti = tariff_input
    for name in ("energy_brl_per_kwh", "fio_b_brl_per_kwh"):
        v = getattr(ti, name)
        if v is not None and not 0 <= v <= 5:
            raise InvalidInput(f"Tarifa {name} fora de 0–5 R$/kWh.", hint="Informe em R$/kWh, ex.: 0.85.",
                               field=f"tariff.{name}")
    t = site_tariff(site, ti.distributor, icms_pct=ti.icms_pct, pis_cofins_pct=ti.pis_cofins_pct)
    energy = ti.energy_brl_per_kwh or t.energy_brl_per_kwh
    fio_b = ti.fio_b_brl_per_kwh if ti.fio_b_brl_per_kwh is not None else t.fio_b_brl_per_kwh
    return Prices(energy_brl_per_kwh=round(energy * t.tax_factor, 5), fio_b_brl_per_kwh=round(fio_b * t.tax_factor, 5),
                  bill_brl_per_kwh=round(energy * t.tax_factor, 5), tariff=t,
                  energy_given=bool(ti.energy_brl_per_kwh), fio_b_given=ti.fio_b_brl_per_kwh is not None)
