"""Weather files: EPW in UTF-8 / ISO-8859-1 / cp1252, TMY2, TMY3, SAM CSV; errors name line and field."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from app.sizing.weather import WeatherFileError, read_weather

PVLIB_DATA = Path(pvlib.__file__).parent / "data"
HOURS = pd.date_range("2023-01-01 01:00", periods=8760, freq="h")  # hour-ending labels of a typical year


def _ghi(lat: float = -30.81) -> np.ndarray:
    """A plausible hourly GHI [W/m²]: clear-sky × 0.7 at the site (deterministic)."""
    times = pd.date_range("2023-01-01 00:30", periods=8760, freq="h", tz="Etc/GMT+3")
    cs = pvlib.location.Location(lat, -51.83, tz="Etc/GMT+3").get_clearsky(times, model="haurwitz")
    return np.round(0.7 * cs["ghi"].to_numpy())


@cache
def _epw_rows() -> tuple[str, ...]:
    """The 8,760 data rows every generated EPW shares (built once: ~0.3 s of Python each time)."""
    ghi = _ghi()
    lines = []
    for k, t in enumerate(HOURS):
        month, day, hour = (t - pd.Timedelta(hours=1)).month, (t - pd.Timedelta(hours=1)).day, (k % 24) + 1
        temp = 18 + 6 * np.sin(2 * np.pi * (hour - 9) / 24)
        g = ghi[k]
        fields = [2005, month, day, hour, 60, "?9?9?9?9E0?9?9?9*9*9?9*9*9?9*9*9*9*9*9*9*9*9",
                  f"{temp:.1f}", "12.0", "70", "101000", "0", "0", "350", f"{g:.0f}", f"{0.6 * g:.0f}",
                  f"{0.4 * g:.0f}", "0", "0", "0", "0", "90", "3.1", "5", "5", "9999", "99999", "9", "999999999",
                  "20", "0.1", "0", "88", "0.18", "0", "0"]
        lines.append(",".join(str(f) for f in fields))
    return tuple(lines)


def inmet_epw(city: str = "Camaquã", encoding: str = "latin-1", rows: int = 8760) -> bytes:
    """An INMET-style EPW (LabEEE/Roriz header) with an accented city name."""
    header = [
        f"LOCATION,{city},RS,BRA,INMET,869890,-30.81,-51.83,-3.0,108.0",
        "DESIGN CONDITIONS,0", "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0",
        f"COMMENTS 1,Arquivo climático INMET elaborado para {city}, ano típico",
        "COMMENTS 2,gerado no teste", "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
    ]
    lines = list(_epw_rows()[:rows])
    return ("\r\n".join(header + lines) + "\r\n").encode(encoding)


def test_latin1_inmet_epw_loads_with_location_from_header():
    data = inmet_epw()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the case that used to fail
    wy = read_weather(data, "BRA_RS_Camaqua.869890_INMET.epw")
    assert (wy.latitude_deg, wy.longitude_deg) == (-30.81, -51.83)
    assert str(wy.times.tz) == "Etc/GMT+3" and len(wy.times) == 8760
    assert "Camaquã/RS" in wy.notes[0] and "cp1252" in wy.provenance[0]
    assert wy.annual_ghi_kwh_m2 == pytest.approx(_ghi().sum() / 1000)
    assert wy.albedo == pytest.approx(0.18)
    assert wy.design_min_temp_c == pytest.approx(12.0, abs=0.1)


@pytest.mark.parametrize("encoding, city", [("utf-8", "Camaquã"), ("utf-8-sig", "São Gabriel"),
                                            ("cp1252", "Itapuã – Viamão"), ("latin-1", "Guaíba")])
def test_every_encoding_gives_the_same_year(encoding, city):
    wy = read_weather(inmet_epw(city, encoding), "x.epw")
    ref = read_weather(inmet_epw("Camaquã", "utf-8"), "x.epw")
    assert city in wy.notes[0]
    np.testing.assert_array_equal(wy.ghi_w_m2, ref.ghi_w_m2)
    np.testing.assert_array_equal(wy.temp_air_c, ref.temp_air_c)


@pytest.mark.slow  # pvlib's own readers as the reference (read_tmy2 parses in pure Python)
def test_tmy3_and_tmy2_from_pvlib_load():
    tmy3 = read_weather((PVLIB_DATA / "723170TYA.CSV").read_bytes(), "723170TYA.CSV")
    assert tmy3.latitude_deg == pytest.approx(36.1) and tmy3.longitude_deg == pytest.approx(-79.95)
    ref, _ = pvlib.iotools.read_tmy3(PVLIB_DATA / "723170TYA.CSV", map_variables=True)
    np.testing.assert_allclose(tmy3.ghi_w_m2, ref["ghi"].to_numpy()[:8760])
    tmy2 = read_weather((PVLIB_DATA / "12839.tm2").read_bytes(), "12839.tm2")
    ref2, _ = pvlib.iotools.read_tmy2(PVLIB_DATA / "12839.tm2")
    assert tmy2.latitude_deg == pytest.approx(25.8) and tmy2.longitude_deg == pytest.approx(-80.2667, abs=1e-3)
    np.testing.assert_allclose(tmy2.ghi_w_m2, ref2["GHI"].to_numpy())
    np.testing.assert_allclose(tmy2.temp_air_c, ref2["DryBulb"].to_numpy() / 10)


def sam_csv() -> bytes:
    ghi = _ghi(-5.09)
    lines = ["Source,Location ID,City,State,Country,Latitude,Longitude,Time Zone,Elevation",
             "INMET,818320,Teresina,PI,Brasil,-5.09,-42.80,-3,74",
             "Year,Month,Day,Hour,Minute,GHI,DNI,DHI,Tdry,Wspd"]
    for k, t in enumerate(HOURS):
        s = t - pd.Timedelta(hours=1)
        lines.append(f"2010,{s.month},{s.day},{s.hour},30,{ghi[k]:.0f},{0.6 * ghi[k]:.0f},{0.4 * ghi[k]:.0f},28.0,1.5")
    return "\n".join(lines).encode()


def test_sam_csv_loads():
    wy = read_weather(sam_csv(), "teresina.csv")
    assert (wy.latitude_deg, wy.longitude_deg) == (-5.09, -42.80)
    assert wy.annual_ghi_kwh_m2 == pytest.approx(_ghi(-5.09).sum() / 1000)
    assert "Teresina PI" in wy.notes[0]


def _corrupt(data: bytes, line_no: int, field_index: int, value: str) -> bytes:
    lines = data.decode("latin-1").split("\r\n")
    parts = lines[line_no - 1].split(",")
    parts[field_index] = value
    lines[line_no - 1] = ",".join(parts)
    return "\r\n".join(lines).encode("latin-1")


def test_non_numeric_value_names_line_and_field():
    bad = _corrupt(inmet_epw(), 1207, 13, "12a")
    with pytest.raises(WeatherFileError) as exc:
        read_weather(bad, "x.epw")
    assert exc.value.status == 422
    assert "linha 1.207" in exc.value.message and "campo GHI" in exc.value.message and "'12a'" in exc.value.message
    assert exc.value.details == {"line": 1207, "field": "GHI"}


def test_missing_value_code_names_line_and_field():
    bad = _corrupt(inmet_epw(), 3000, 14, "9999")
    with pytest.raises(WeatherFileError, match=r"linha 3\.000, campo DNI: 9999 fora da faixa"):
        read_weather(bad, "x.epw")


def test_short_file_and_bad_header_and_unknown_format():
    with pytest.raises(WeatherFileError, match="8.000 registros"):
        read_weather(inmet_epw(rows=8000), "x.epw")
    with pytest.raises(WeatherFileError, match="linha 1, campo LOCATION latitude"):
        read_weather(inmet_epw().replace(b"-30.81", b"sul", 1), "x.epw")
    with pytest.raises(WeatherFileError, match="formato não reconhecido"):
        read_weather(b"hello,world\n1,2\n", "x.txt")
    with pytest.raises(WeatherFileError, match="vazio"):
        read_weather(b"  \n", "x.epw")


def test_hours_out_of_order_are_rejected():
    data = inmet_epw().decode("latin-1").split("\r\n")
    data[8 + 100], data[8 + 2000] = data[8 + 2000], data[8 + 100]
    with pytest.raises(WeatherFileError, match=r"linha 109, campo data"):
        read_weather("\r\n".join(data).encode("latin-1"), "x.epw")
