"""Coordinates: the GCJ-02 ↔ WGS-84 datum shift and the district a point lies in.

Chinese map services publish GCJ-02 ("Mars") coordinates, GPS devices give WGS-84. The shipped
district boundaries are GCJ-02, so a WGS-84 point is shifted before the point-in-polygon test.
The forward formula is the published eviltransform one (Krasovsky 1940 ellipsoid); it has no
closed-form inverse, so GCJ-02 → WGS-84 is solved by fixed-point iteration to well under 1 m.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Literal

from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

Datum = Literal["wgs84", "gcj02"]

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as in the GCJ-02 algorithm
_EE = 0.00669342162296594323  # its first eccentricity squared


def _outside_china(lat: float, lon: float) -> bool:
    # GCJ-02 is only applied inside mainland China's rough bounding box.
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if _outside_china(lat, lon):
        return lat, lon
    d_lat = _transform_lat(lon - 105.0, lat - 35.0)
    d_lon = _transform_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float, *, tolerance_deg: float = 1e-9) -> tuple[float, float]:
    if _outside_china(lat, lon):
        return lat, lon
    # Fixed point: find w with forward(w) == g. The shift varies slowly, so each step gains
    # about three orders of magnitude; 1e-9 degrees is ~0.1 mm.
    w_lat, w_lon = lat, lon
    for _ in range(30):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        e_lat, e_lon = g_lat - lat, g_lon - lon
        if abs(e_lat) < tolerance_deg and abs(e_lon) < tolerance_deg:
            break
        w_lat, w_lon = w_lat - e_lat, w_lon - e_lon
    return w_lat, w_lon


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


class _Districts:
    def __init__(self) -> None:
        raw = resources.files("jiesu.data").joinpath("beijing_districts.geojson").read_text("utf-8")
        features = json.loads(raw)["features"]
        self.codes: list[str] = [str(f["properties"]["adcode"]) for f in features]
        self.geoms: list[BaseGeometry] = [shape(f["geometry"]) for f in features]
        self.tree = STRtree(self.geoms)


@lru_cache(maxsize=1)
def _districts() -> _Districts:
    return _Districts()


def district_at(lat: float, lon: float, datum: Datum = "wgs84") -> str | None:
    """The code of the Beijing district containing the point, or None outside Beijing."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if datum == "wgs84":
        lat, lon = wgs84_to_gcj02(lat, lon)
    elif datum != "gcj02":
        raise ValueError(f"unknown datum {datum!r}: use 'wgs84' or 'gcj02'")
    d = _districts()
    point = Point(lon, lat)  # GeoJSON order: x = longitude
    for i in d.tree.query(point):
        if d.geoms[int(i)].covers(point):
            return d.codes[int(i)]
    return None
