"""Category, inverter type and roof type from what a product's name says.

The export files products by portal section, and the sections are wrong often enough
(string boxes and structures in ``inverters_unified.json``, EV chargers in
``controllers_unified.json``, mounting kits in ``cables_unified.json``). The name is the
better witness; the file only breaks ties.
"""

from __future__ import annotations

import re

from app.catalog.models import Category, InverterType, RoofType
from app.core.text import fold

# Section each upstream file claims for its rows.
FILE_CATEGORY: dict[str, Category] = {
    "inverters_unified.json": Category.INVERTER,
    "panels_unified.json": Category.MODULE,
    "batteries_unified.json": Category.BATTERY,
    "structures_unified.json": Category.STRUCTURE,
    "stringboxes_unified.json": Category.STRING_BOX,
    "cables_unified.json": Category.CABLE,
    "controllers_unified.json": Category.CHARGE_CONTROLLER,
    "accessories_unified.json": Category.ACCESSORY,
    "others_unified.json": Category.ACCESSORY,
    "kits_unified.json": Category.KIT,
}

# (pattern on the folded name, category, reason). First match wins, so the specific
# accessory patterns come before the broad words they contain ("kit fixador micro
# inversor" is not an inverter, "medidor ... para controlador" is not a controller).
_RULES: tuple[tuple[re.Pattern[str], Category, str], ...] = tuple(
    (re.compile(p), c, why)
    for p, c, why in (
        (r"^kit energia solar|^kit solar|^kp\d|\bkwp\b.*\bkit\b", Category.KIT, "nome de kit"),
        (r"kit fixador micro ?inversor|fixacao p/ microinversor", Category.ACCESSORY, "fixador de microinversor"),
        (r"unidade de controle|ezlogger|datalogger|smart meter|medidor|sensor de temperatura", Category.ACCESSORY,
         "monitoramento/controle"),
        (r"\bwi-?fi\b.*\brj45\b|^modulo .*wi-?fi", Category.ACCESSORY, "módulo de comunicação"),
        (r"rapid shutdown|^rsd\b", Category.ACCESSORY, "desligamento rápido (RSD)"),
        (r"^carregador .*(carro|veicul|\bve\b|\bev\b)|^carregador (ev|ve|veicular)|wallbox", Category.EV_CHARGER,
         "carregador veicular"),
        (r"carro eletrico|\bv2l\b|neocharge", Category.ACCESSORY, "acessório de recarga veicular"),
        (r"string ?box", Category.STRING_BOX, "nome diz string box"),
        (r"^estrutura|suporte p/ telha|suporte para telha|^kit suporte|kit de montagem - estrutura|trilho|monoposte",
         Category.STRUCTURE, "nome diz estrutura/suporte"),
        (r"^kit fixacao", Category.ACCESSORY, "fixação avulsa"),
        (r"^bateria|\bbateria (lfp|de litio|estacionaria)", Category.BATTERY, "nome diz bateria"),
        (r"^controlador|controlador de carga mppt", Category.CHARGE_CONTROLLER, "nome diz controlador de carga"),
        (r"^cabo .*\d+([.,]\d+)? ?mm|^cabo (solar|flex|ca|pp)\b", Category.CABLE, "nome diz cabo"),
        (r"^cabo|conector|mc4|duto|caixa de passagem|cerca|pedestal|totem|quadro de protecao", Category.ACCESSORY,
         "acessório de instalação"),
        (r"painel solar|modulo fotovoltaico|placa solar|^modulo .*\d{3} ?w\b", Category.MODULE, "nome diz módulo"),
        (r"micro ?inversor|\binversor|\binverter\b", Category.INVERTER, "nome diz inversor"),
    )
)


def classify(name: str, file_name: str) -> tuple[Category, str]:
    """Category of a product from its name, falling back to the file it was filed in.

    Returns ``(category, reason)``; reason says which words decided.
    """
    folded = fold(name)
    filed = FILE_CATEGORY.get(file_name, Category.ACCESSORY)
    if filed is Category.KIT:
        # Everything in the kits file is a kit; FOTUS names start with the panel.
        return Category.KIT, "arquivo de kits"
    for pattern, category, why in _RULES:
        if pattern.search(folded):
            return category, why
    if filed is Category.CHARGE_CONTROLLER:
        # That file turned out to hold EV gear and cables; only a name proves a controller.
        return Category.ACCESSORY, "arquivo de controladores sem nome de controlador"
    return filed, "arquivo de origem"


def inverter_type(name: str, upstream_type: str | None = None) -> tuple[InverterType | None, str]:
    """Grid-tie / hybrid / off-grid / micro from the name; returns ``(type, reason)``.

    Brand series without the word "híbrido" in their Solfácil names (GoodWe ES/EH/ET/BT/SBP,
    Growatt SPH, Deye SG0x) are hybrids by their datasheets' series definition.
    """
    f = fold(name)
    ut = fold(upstream_type or "")
    if re.search(r"micro ?inversor|\bmlpe\b|\biq8|\b(gw\d+-mis)\b", f) or "microinversor" in ut:
        return InverterType.MICRO, "nome/tipo diz microinversor"
    if re.search(r"on ?\+ ?off|on/off grid", f):
        return InverterType.HYBRID, "nome diz on + off grid"
    if "off grid" in f or "off-grid" in f or re.search(r"inversor[- ]carregador|\bsenoidal\b", f):
        return InverterType.OFF_GRID, "nome diz off grid / inversor-carregador"
    if re.search(r"hibrid|hybrid", f):
        return InverterType.HYBRID, "nome diz híbrido"
    if re.search(r"\bgw ?\d+[a-z]*-(es|eh|et|bt|sbp)\b|\bgw\d+k?l?-(et|bt)\b|-sbp-|\bsph\b|sg0\dlp", f):
        return InverterType.HYBRID, "série híbrida do fabricante"
    if re.search(r"on ?grid|grid[- ]tie", f):
        return InverterType.GRID_TIE, "nome diz on grid"
    return InverterType.GRID_TIE, "inversor de string sem indicação de bateria: on grid"


def roof_type(text: str) -> RoofType | None:
    """Roof a mounting structure is for, from Portuguese names; ``None`` when not said.

    "Estrutura metálica" names the material, not the roof, so it is removed before
    looking for a metal roof. Ground and slab win over roof words ("metálica - laje").
    """
    f = re.sub(r"estrutura (de )?metalic[ao]", "estrutura", fold(text))
    if re.search(r"\bsolo\b", f):
        return RoofType.GROUND
    if re.search(r"\blaje\b", f):
        return RoofType.SLAB
    if re.search(r"ceramic|colonial", f):
        return RoofType.CERAMIC
    if "fibrocimento" in f:
        return RoofType.FIBER_CEMENT
    # Mini-rails are the usual fixing on trapezoidal metal sheets.
    if re.search(r"metalic|trapezoidal|mini ?trilho", f):
        return RoofType.METAL
    return None
