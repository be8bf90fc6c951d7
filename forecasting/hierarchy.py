"""Area forecasts turned into the other views the service needs, all consistent by construction.

Reconciliation is bottom-up: a system's or the network's forecast is the sum of its areas', so
areas, systems and network always add up. Their intervals assume the areas' errors independent
(variances add), which understates the spread when one family-wide surprise hits every area.
A site's forecast splits each area's demand by the share of that area's requests of the family
that the site has served; splitting a count multinomially keeps the totals and gives the
site's variance. The diary builder's rows are made in `diary_demand`."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from forecasting.demand import DemandForecast

NETWORK = "network"


def by_system(forecast: DemandForecast, area_to_system: Mapping[str, str]) -> pd.DataFrame:
    """Forecast per week × family × integrated care system, plus a `network` row per week ×
    family; columns week_start, exam_family, unit_id, forecast, lo80..hi95, sd."""
    table = forecast.table
    unknown = sorted(set(table["area_id"]) - set(area_to_system))
    if unknown:
        raise KeyError(f"demand area(s) not in the network: {', '.join(unknown[:5])}")
    systems = table.assign(unit_id=table["area_id"].map(area_to_system))
    network = table.assign(unit_id=NETWORK)
    return pd.concat([_summed(systems, forecast), _summed(network, forecast)],
                     ignore_index=True)


def site_shares(requests: pd.DataFrame, appointments: pd.DataFrame) -> pd.DataFrame:
    """Share of each family × area's requests that each site served (by the site of the
    request's latest appointment); columns exam_family, area_id, site_id, share."""
    latest = (appointments.sort_values(["booked_date", "start"])
              .drop_duplicates("request_id", keep="last")[["request_id", "site_id"]])
    served = requests[["request_id", "exam_family", "area_id"]].merge(latest, on="request_id")
    counts = served.groupby(["exam_family", "area_id", "site_id"]).size().rename("count")
    totals = counts.groupby(level=["exam_family", "area_id"]).transform("sum")
    return (counts / totals).rename("share").reset_index()


def by_site(forecast: DemandForecast, shares: pd.DataFrame) -> pd.DataFrame:
    """Forecast per week × family × site. A family × area no site has served before has no
    share and drops out of this view (it still counts in the area and system views)."""
    rows = forecast.table.merge(shares, on=["exam_family", "area_id"])
    mean = rows["forecast"] * rows["share"]
    variance = (rows["share"] ** 2 * rows["sd"] ** 2
                + rows["share"] * (1 - rows["share"]) * rows["forecast"])
    split = rows.assign(forecast=mean, variance=variance, unit_id=rows["site_id"])
    return _summed(split, forecast, variance_column="variance")


def _summed(rows: pd.DataFrame, forecast: DemandForecast,
            variance_column: str | None = None) -> pd.DataFrame:
    variance = rows[variance_column] if variance_column else rows["sd"] ** 2
    grouped = (rows.assign(variance=variance)
               .groupby(["week_start", "exam_family", "unit_id"], sort=True)
               [["forecast", "variance"]].sum().reset_index())
    sd = np.sqrt(grouped.pop("variance"))
    mean = grouped["forecast"]
    for level, width in (("80", forecast.half_width80), ("95", forecast.half_width95)):
        grouped[f"lo{level}"] = np.maximum(mean - width * sd, 0.0)
        grouped[f"hi{level}"] = mean + width * sd
    grouped["sd"] = sd
    return grouped
