import numpy as np
import pytest

from forecasting.demand import forecast_demand
from forecasting.hierarchy import (
    NETWORK,
    by_site,
    by_system,
    site_shares,
)


@pytest.fixture(scope="module")
def forecast(history):
    return forecast_demand(history.requests, horizon=4, model="ets")


def test_the_forecast_table_has_one_row_per_week_family_and_area_with_ordered_bounds(forecast):
    table = forecast.table
    assert len(table) == table[["week_start", "exam_family", "area_id"]].drop_duplicates().shape[0]
    assert table["week_start"].nunique() == 4
    assert ((table["lo95"] <= table["lo80"]) & (table["lo80"] <= table["forecast"])
            & (table["forecast"] <= table["hi80"]) & (table["hi80"] <= table["hi95"])).all()


def test_systems_and_the_network_add_up_to_their_areas(forecast):
    to_system = {f"B{n}": ("ICS_A" if n <= 4 else "ICS_B") for n in range(1, 9)}
    systems = by_system(forecast, to_system)
    table = forecast.table.assign(system=forecast.table["area_id"].map(to_system))
    areas = table.groupby(["week_start", "exam_family", "system"])["forecast"].sum()
    ics = systems[systems["unit_id"] != NETWORK].set_index(
        ["week_start", "exam_family", "unit_id"])["forecast"]
    assert np.allclose(ics.sort_index().to_numpy(), areas.sort_index().to_numpy())
    network = systems[systems["unit_id"] == NETWORK].groupby("exam_family")["forecast"].sum()
    assert np.allclose(network.to_numpy(),
                       ics.groupby(level="exam_family").sum().loc[network.index].to_numpy())


def test_an_area_missing_from_the_network_is_named(forecast):
    with pytest.raises(KeyError, match="B8"):
        by_system(forecast, {f"B{n}": "ICS_A" for n in range(1, 8)})


def test_site_forecasts_split_each_area_without_losing_demand(history, forecast):
    shares = site_shares(history.requests, history.appointments)
    sites = by_site(forecast, shares)
    assert np.isclose(sites["forecast"].sum(), forecast.table["forecast"].sum())
    assert np.allclose(shares.groupby(["exam_family", "area_id"])["share"].sum(), 1.0)
