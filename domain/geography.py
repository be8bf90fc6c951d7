"""Distances between places in the network: great-circle km, which is what patients are told
("12 km away"); road distance would need data we do not hold."""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0

# A box around the West Midlands region, used to catch transposed or mistyped coordinates.
REGION_LAT = (51.8, 53.3)
REGION_LON = (-3.4, -1.1)


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km; works on floats and on numpy arrays (broadcasting)."""
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2)
    )
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    distance = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
    return float(distance) if distance.ndim == 0 else distance


def inside_region(lat: float, lon: float) -> bool:
    return REGION_LAT[0] <= lat <= REGION_LAT[1] and REGION_LON[0] <= lon <= REGION_LON[1]
