"""Issue 18 point 2: find an expert by technique, equipment, category, School or words, on the
page and in the API, never through a part the person hides from the searcher."""

from __future__ import annotations

import re


def _names(page: str) -> list[str]:
    return re.findall(r'<h3 class="result-title"><a href="/people/\d+">([^<]+)</a>', page)


def test_a_researcher_finds_the_technicians_of_a_technique_in_any_school(people, as_person):
    page = as_person(people["otto"]).get("/people?technique=confocal+MICROSCOPY").get_data(as_text=True)
    assert _names(page) == ["Tess Technician"]  # Pia lists it too, but only for PHYS


def test_a_tag_hidden_beyond_the_school_is_found_by_the_school(people, as_person):
    page = as_person(people["paul"]).get("/people?technique=Confocal+microscopy").get_data(as_text=True)
    assert _names(page) == ["Pia Phys-Tech", "Tess Technician"]


def test_search_by_asset_finds_its_contact_and_named_technicians_where_visible(people, as_person):
    spectrometer = people["spectrometer"].id
    assert _names(as_person(people["mia"]).get(f"/people?asset={spectrometer}").get_data(as_text=True)) == [
        "Otto Operator",
        "Tess Technician",
    ]
    # Tess shows her equipment only to CHEM: Paul finds Otto alone.
    assert _names(as_person(people["paul"]).get(f"/people?asset={spectrometer}").get_data(as_text=True)) == [
        "Otto Operator"
    ]


def test_search_by_category_school_and_words(people, as_person):
    paul = as_person(people["paul"])
    assert _names(paul.get(f"/people?category={people['nmr'].id}").get_data(as_text=True)) == [
        "Otto Operator"
    ]
    assert _names(paul.get(f"/people?school={people['phys'].id}").get_data(as_text=True)) == ["Pia Phys-Tech"]
    assert _names(paul.get("/people?q=imaging+senior").get_data(as_text=True)) == ["Tess Technician"]
    # Words are matched only against what the searcher may see: Tess's equipment is hidden from PHYS.
    assert _names(paul.get("/people?q=CHEM-0001").get_data(as_text=True)) == []
    assert _names(as_person(people["otto"]).get("/people?q=CHEM-0001").get_data(as_text=True)) == [
        "Tess Technician"
    ]


def test_the_suggested_techniques_leave_out_hidden_tags(people, as_person):
    page = as_person(people["otto"]).get("/people").get_data(as_text=True)
    suggestions = re.search(r'<datalist id="specialism-suggestions">(.*?)</datalist>', page, re.DOTALL).group(
        1
    )
    assert 'value="Confocal microscopy"' in suggestions and 'value="NMR spectroscopy"' in suggestions
    assert as_person(people["paul"]).get("/people").status_code == 200


def test_bad_search_input_is_refused_with_a_message(people, as_person):
    response = as_person(people["paul"]).get("/people?asset=abc&q=" + "x" * 300)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Choose from the list." in page and "at most 200 characters" in page


def test_the_api_finds_by_technique_and_asset_with_hidden_parts_null(people, api_as):
    paul = api_as(people["paul"])
    body = paul.get("/api/v1/people", query_string={"technique": "confocal microscopy"}).json
    # Pia (PHYS) shows her tags only to PHYS, which Paul is of.
    assert [item["name"] for item in body["items"]] == ["Pia Phys-Tech", "Tess Technician"] and body[
        "total"
    ] == 2
    tess = body["items"][1]
    assert tess["role_title"] == "Senior Imaging Technician"
    assert tess["specialisms"] == ["Confocal microscopy", "Live-cell imaging"]
    assert tess["registrations"] is None and tess["assets"] is None
    body = paul.get("/api/v1/people", query_string={"asset": people["spectrometer"].id}).json
    assert [item["name"] for item in body["items"]] == ["Otto Operator"]
    otto = body["items"][0]
    assert otto["assets"] == [
        {
            "id": people["spectrometer"].id,
            "tag": "CHEM-0002",
            "name": "NMR spectrometer",
            "school_id": people["chem"].id,
        }
    ]


def test_the_api_never_matches_a_hidden_tag(people, api_as):
    body = (
        api_as(people["otto"]).get("/api/v1/people", query_string={"technique": "confocal microscopy"}).json
    )
    assert [item["name"] for item in body["items"]] == ["Tess Technician"]


def test_the_api_shows_the_persons_school_everything(people, api_as):
    body = (
        api_as(people["otto"]).get("/api/v1/people", query_string={"asset": people["spectrometer"].id}).json
    )
    tess = next(item for item in body["items"] if item["name"] == "Tess Technician")
    assert tess["registrations"] == [{"title": "RSciTech", "registered_on": "2021-05-01"}]
    assert {a["tag"] for a in tess["assets"]} == {"CHEM-0001", "CHEM-0002"}


def test_the_api_refuses_bad_parameters_as_problems(people, api_as):
    client = api_as(people["paul"])
    assert client.get("/api/v1/people", query_string={"asset": "abc"}).status_code == 400
    response = client.get("/api/v1/people", query_string={"q": "x" * 300})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
