"""``helio size``: dimensiona um sistema pela linha de comando (resumo em tabela ou ``--json``)."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console

from app.catalog.models import Phase, RoofType
from app.core.errors import HelioError, InvalidInput
from app.core.text import format_brl, format_number


def _brl(v: float | None) -> str:
    return "—" if v is None else format_brl(v)


def _num(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else format_number(v, decimals=digits)


def size(
    municipality: str | None = typer.Option(None, "--municipality", "-m", help="Município (ex.: Uberlândia)."),
    uf: str | None = typer.Option(None, "--uf", help="UF (ex.: MG)."),
    ibge_code: int | None = typer.Option(None, "--ibge-code", help="Código IBGE do município."),
    lat: float | None = typer.Option(None, "--lat", help="Latitude [graus, sul negativa]."),
    lon: float | None = typer.Option(None, "--lon", help="Longitude [graus, oeste negativa]."),
    monthly_kwh: list[float] | None = typer.Option(None, "--monthly-kwh",
                                                   help="Consumo médio mensal [kWh], ou 12 valores (repita a opção)."),
    bill_brl: float | None = typer.Option(None, "--bill-brl", help="Conta média [R$/mês]."),
    tariff_brl_per_kwh: float | None = typer.Option(None, "--tariff-brl-per-kwh", help="Tarifa para converter a conta."),
    connection: Phase = typer.Option(..., "--connection", help="single_phase | two_phase | three_phase."),
    roof_type: RoofType = typer.Option(RoofType.CERAMIC, "--roof-type"),
    roof_area_m2: float | None = typer.Option(None, "--roof-area-m2"),
    azimuth_deg: float = typer.Option(0.0, "--azimuth-deg", help="0 = norte."),
    tilt_deg: float | None = typer.Option(None, "--tilt-deg", help="Padrão: ≈ latitude."),
    module_id: str | None = typer.Option(None, "--module-id"),
    inverter_id: str | None = typer.Option(None, "--inverter-id"),
    max_dc_ac_ratio: float = typer.Option(1.30, "--max-dc-ac-ratio"),
    target_offset_pct: float = typer.Option(100.0, "--target-offset-pct"),
    budget_brl: float | None = typer.Option(None, "--budget-brl"),
    energy_brl_per_kwh: float | None = typer.Option(None, "--energy-brl-per-kwh", help="TE+TUSD [R$/kWh]."),
    fio_b_brl_per_kwh: float | None = typer.Option(None, "--fio-b-brl-per-kwh"),
    escalation_pct_per_year: float = typer.Option(5.0, "--escalation-pct-per-year"),
    connection_year: int = typer.Option(2026, "--connection-year"),
    weather: Path | None = typer.Option(
        None, "--weather", help="Arquivo EPW/TMY2/TMY3/CSV do SAM no lugar do recurso padrão; o local vem do cabeçalho "
                                "quando não há --municipality/--lat/--lon."),
    distributor: str | None = typer.Option(None, "--distributor", help="Distribuidora (ex.: Cemig, Enel SP)."),
    system_kwp: float | None = typer.Option(None, "--system-kwp", help="Simula este tamanho [kWp] em vez da meta."),
    kit_id: str | None = typer.Option(None, "--kit-id", help="Simula este kit do catálogo."),
    shading_pct: float = typer.Option(0.0, "--shading-pct", help="Perda extra por sombreamento [%]."),
    as_json: bool = typer.Option(False, "--json", help="Resultado completo em JSON."),
) -> None:
    """Dimensiona um sistema FV com equipamentos do catálogo em estoque."""
    from app.catalog.store import SQLiteCatalogStore
    from app.core.cache import make_cache
    from app.core.settings import get_settings
    from app.sizing.models import ConsumptionInput, Preferences, RoofInput, SiteInput, SizingRequest, TariffInput
    from app.sizing.service import size_and_store, size_with_weather_file

    console = Console()
    try:
        monthly: float | tuple[float, ...] | None = None
        if monthly_kwh:
            monthly = monthly_kwh[0] if len(monthly_kwh) == 1 else tuple(monthly_kwh)
        request = SizingRequest(
            site=SiteInput(municipality=municipality, uf=uf, ibge_code=ibge_code, lat=lat, lon=lon),
            consumption=ConsumptionInput(monthly_kwh=monthly, bill_brl=bill_brl, tariff_brl_per_kwh=tariff_brl_per_kwh),
            connection=connection,
            roof=RoofInput(type=roof_type, area_m2=roof_area_m2, azimuth_deg=azimuth_deg, tilt_deg=tilt_deg,
                           shading_pct=shading_pct),
            system_kwp=system_kwp, kit_id=kit_id,
            preferences=Preferences(module_id=module_id, inverter_id=inverter_id, max_dc_ac_ratio=max_dc_ac_ratio,
                                    target_offset_pct=target_offset_pct, budget_brl=budget_brl),
            tariff=TariffInput(distributor=distributor, energy_brl_per_kwh=energy_brl_per_kwh, fio_b_brl_per_kwh=fio_b_brl_per_kwh,
                               escalation_pct_per_year=escalation_pct_per_year, connection_year=connection_year),
        )
        settings = get_settings()
        if not Path(settings.catalog.db_path).exists():
            console.print(f"[red]Catálogo não encontrado em {settings.catalog.db_path}.[/red] Rode 'helio ingest catalog'.")
            raise typer.Exit(2)
        from app.specs.catalog import SpecCatalog
        from app.specs.registry import make_spec_registry

        store = SpecCatalog(SQLiteCatalogStore(settings.catalog.db_path), make_spec_registry(settings))
        if weather:
            # The file's header gives the site when no municipality/coordinates are passed.
            if not weather.is_file():
                raise InvalidInput(f"Arquivo de clima não encontrado: {weather}.",
                                   hint="Informe um arquivo EPW, TMY2, TMY3 ou CSV do SAM.")
            result = size_with_weather_file(request, store, make_cache(settings.redis),
                                            settings.redis.sizing_cache_ttl_s, weather.read_bytes(), weather.name)[0]
        else:
            result = size_and_store(request, store, make_cache(settings.redis),
                                    settings.redis.sizing_cache_ttl_s)[0]
    except HelioError as exc:
        console.print(f"[red]Erro:[/red] {exc.message}")
        if exc.hint:
            console.print(f"[yellow]Dica:[/yellow] {exc.hint}")
        raise typer.Exit(1) from exc
    except ValidationError as exc:  # out-of-range options: name the field, no traceback
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        console.print(f"[red]Erro:[/red] valor inválido em '{field}': {first.get('msg')}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    _print_summary(console, result)


def _print_design(console: Console, n: int, d) -> None:  # d: DesignOut
    e, en = d.economics, d.energy
    console.print(f"\n[bold]{n}. {d.label}[/bold]")
    if d.kind == "kit" and d.kit is not None:
        k = d.kit
        console.print(f"   {k.quantity} × {k.name}")
        console.print(f"   id {k.product_id}; {_brl(k.unit_price_brl)} cada (catálogo, {k.distributor or '—'}); "
                      f"estrutura: {_ROOF.get(k.roof_type or '', 'não informada')}")
    else:
        for line in (d.module, d.inverter):
            console.print(f"   {line.quantity} × {line.name} (id {line.product_id}; {_brl(line.unit_price_brl)} cada)")
    console.print(f"   {_num(d.dc_kwp, 2)} kWp CC / {_num(d.ac_kw, 2)} kW CA (CC/CA {_num(d.dc_ac_ratio, 2)}); "
                  f"{_num(en.annual_kwh)} kWh/ano P50, {_num(en.p90_annual_kwh)} P90; "
                  f"{_num(en.specific_yield_kwh_per_kwp)} kWh/kWp; {_num(en.offset_pct)} % do consumo")
    console.print(f"   Investimento {_brl(e.capex_brl)} (equipamentos {_brl(e.equipment_brl)} + instalação "
                  f"{_brl(e.installation_brl)}); economia no 1º ano {_brl(e.first_year_savings_brl)}; "
                  f"payback {_num(e.simple_payback_years, 1)} anos; TIR {_num(e.irr_pct, 1)} %")
    if d.string_check == "verified" and d.strings is not None:
        s = d.strings
        console.print(f"   Strings verificadas: {s.strings_total} × {s.modules_in_series} módulos; Voc a "
                      f"{_num(s.min_temp_c, 1)} °C {_num(s.voc_cold_string_v)} V ≤ {_num(s.max_dc_voltage_v)} V; "
                      f"Vmp a 70 °C {_num(s.vmp_hot_string_v)} V ≥ {_num(s.mppt_min_v)} V")
    elif d.string_check == "verified":
        console.print("   Verificação elétrica do kit: verificada — " + "; ".join(
            f"{c.check}: {_num(c.value, 1)} {c.unit}".rstrip() + f" (limite {_num(c.limit, 1)} {c.unit}".rstrip() + ")"
            for c in d.electrical_checks))
    elif d.string_check == "fails":
        console.print(f"   [red]Verificação elétrica: reprovada[/red] — {d.string_check_reason}")
    else:
        console.print(f"   [yellow]Verificação elétrica: não verificável[/yellow] — {d.string_check_reason}")
    for note in d.notes:
        console.print(f"   [dim]obs.: {note}[/dim]")


_ROOF = {"ceramic": "telhado cerâmico", "fiber_cement": "fibrocimento", "metal": "metálico", "slab": "laje",
         "ground": "solo"}
_CATEGORY_PT = {"module": "módulos", "inverter": "inversores", "kit": "kits"}


def _print_summary(console: Console, r) -> None:  # r: SizingResult
    console.print(f"[bold]Hélio — dimensionamento[/bold]: {r.site.municipality}/{r.site.uf} "
                  f"({r.site.latitude_deg:.3f}, {r.site.longitude_deg:.3f})")
    console.print(f"Consumo {_num(r.consumption.annual_kwh)} kWh/ano; meta {_num(r.consumption.target_annual_kwh)} "
                  f"kWh/ano; irradiação {_num(r.resource.annual_ghi_kwh_m2)} kWh/m²/ano "
                  f"(±{_num(r.resource.ghi_uncertainty_pct, 1)} %); plano {r.tilt_deg:.0f}° / {r.azimuth_deg:.0f}°")
    for n, d in enumerate([r.best, *r.alternatives], 1):
        _print_design(console, n, d)
    labels = tuple(d.label for d in [r.best, *r.alternatives])
    general = [w for w in r.warnings if not w.startswith(labels)]
    if general:
        console.print()
        for w in general:
            console.print(f"[yellow]Atenção:[/yellow] {w}")
    by_cat: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for x in r.skipped_products:
        by_cat[x.category] = by_cat.get(x.category, 0) + 1
        reasons[x.reason] = reasons.get(x.reason, 0) + 1
    console.print(f"\n{r.usable_modules} módulos, {r.usable_inverters} inversores e {r.usable_kits} kits "
                  f"utilizáveis; {len(r.skipped_products)} produtos ignorados ("
                  + ", ".join(f"{v} {_CATEGORY_PT.get(k, k)}" for k, v in sorted(by_cat.items())) + ").")
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1])[:6]:
        console.print(f"[dim]  {count} × {reason}[/dim]")
    if r.sizing_id:
        console.print(f"Id do dimensionamento: {r.sizing_id}")
    for a in r.assumptions:
        console.print(f"[dim]• {a}[/dim]")
