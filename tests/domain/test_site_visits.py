"""The patient-facing details of every site (issue 17, item 11): one row per site of the
reference network, with a full postcode in the site's district."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.data_files import DataFileError
from domain.network import load_reference_network
from domain.site_visits import load_site_visits, site_visits


def test_every_site_of_the_reference_network_has_visit_details() -> None:
    network = load_reference_network()
    assert set(site_visits()) == {site.site_id for site in network.sites}


def test_each_postcode_lies_in_its_sites_district() -> None:
    districts = {site.site_id: site.postcode_district for site in load_reference_network().sites}
    assert {s: v.postcode_district for s, v in site_visits().items()} == districts


def test_the_full_address_and_map_link_name_the_place() -> None:
    visit = site_visits()["UHB-QE"]
    assert visit.full_address("Queen Elizabeth Hospital Birmingham") == \
        "Queen Elizabeth Hospital Birmingham, Mindelsohn Way, Birmingham B15 2GW"
    assert visit.map_link(52.4516, -1.9418).startswith(
        "https://www.openstreetmap.org/?mlat=52.45160&mlon=-1.94180")


@pytest.mark.parametrize(("postcode", "field"), [("B152GW", "postcode"), ("", "postcode")])
def test_a_bad_row_is_refused_naming_its_field(tmp_path: Path, postcode: str,
                                               field: str) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("site_id,address,town,postcode,phone,report_to\n"
                    f"S1,1 Road,Town,{postcode},0121 496 0000,Reception\n")
    with pytest.raises(DataFileError) as refused:
        load_site_visits(path)
    assert refused.value.field == field and refused.value.row == 2
