"""The proposal's two charts (reportlab graphics, vector, no extra dependency)."""

from __future__ import annotations

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors

from app.core.text import format_number

MONTHS_PT = ["Jan", "Fev", "Mar", "Abr", "Mai", "Jun", "Jul", "Ago", "Set", "Out", "Nov", "Dez"]
SUN = colors.HexColor("#F2A900")
NAVY = colors.HexColor("#1F3A5F")
GREEN = colors.HexColor("#2E8B57")
RED = colors.HexColor("#C0392B")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1) / 2
    return (int(value / step) + 1) * step


def monthly_generation_chart(generation_kwh: list[float], consumption_kwh: list[float] | None, font: str,
                             width: float = 470, height: float = 210) -> Drawing:
    """Bars: estimated generation per month [kWh] next to the consumption."""
    d = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 50, 40, width - 70, height - 75
    data = [list(generation_kwh)] + ([list(consumption_kwh)] if consumption_kwh else [])
    chart.data = data
    chart.categoryAxis.categoryNames = MONTHS_PT
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _nice_max(max(max(s) for s in data))
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.labelTextFormat = lambda v: format_number(v, decimals=0)
    chart.bars[0].fillColor = SUN
    if consumption_kwh:
        chart.bars[1].fillColor = NAVY
    chart.groupSpacing = 6
    d.add(chart)
    d.add(String(50, height - 18, "Geração mensal estimada (kWh)", fontName=font, fontSize=10))
    legend = Legend()
    legend.x, legend.y = width - 200, height - 12
    legend.fontName, legend.fontSize = font, 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = [(SUN, "geração")] + ([(NAVY, "consumo")] if consumption_kwh else [])
    d.add(legend)
    return d


def payback_chart(cumulative_brl: list[float], payback_years: float | None, font: str,
                  width: float = 470, height: float = 210) -> Drawing:
    """Bars: cumulative cash flow per year [R$] (investment at year 0, savings after); the
    sign change is the payback."""
    d = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 70, 40, width - 90, height - 75
    chart.data = [list(cumulative_brl)]
    chart.categoryAxis.categoryNames = [str(i) for i in range(len(cumulative_brl))]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.visible = True
    low, high = min(cumulative_brl + [0.0]), max(cumulative_brl + [0.0])
    chart.valueAxis.valueMin = -_nice_max(-low) if low < 0 else 0
    chart.valueAxis.valueMax = _nice_max(high)
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.labelTextFormat = lambda v: "R$ " + format_number(v / 1000, decimals=0) + " mil"
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.joinAxisMode = "value"
    chart.categoryAxis.joinAxisPos = 0
    chart.bars[0].fillColor = GREEN
    for i, value in enumerate(cumulative_brl):
        chart.bars[(0, i)].fillColor = RED if value < 0 else GREEN
    chart.barSpacing = 1
    d.add(chart)
    title = "Fluxo de caixa acumulado (R$), ano 0 = investimento"
    d.add(String(70, height - 18, title, fontName=font, fontSize=10))
    if payback_years is not None and len(cumulative_brl) > 1:
        # bars are centred on categories 0..n-1; the payback is between year ⌊p⌋ and ⌈p⌉
        step = chart.width / len(cumulative_brl)
        x = chart.x + step * (payback_years + 0.5)
        d.add(Line(x, chart.y, x, chart.y + chart.height, strokeColor=NAVY, strokeDashArray=[3, 2]))
        d.add(String(x + 3, chart.y + chart.height - 10, f"retorno: {format_number(payback_years, decimals=1)} anos",
                     fontName=font, fontSize=8, fillColor=NAVY))
    d.add(String(chart.x + chart.width / 2, 8, "anos", fontName=font, fontSize=8, textAnchor="middle"))
    return d
