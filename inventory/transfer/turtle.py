"""The Organisation Profile Document (Turtle) that points equipment.data.ac.uk at the Uniquip feed."""

from __future__ import annotations

from urllib.parse import quote

CC0 = "http://creativecommons.org/publicdomain/zero/1.0/"


def _iri(value: str) -> str:
    return "<" + quote(value, safe=":/?#[]@!$&'()*+,;=%~-._") + ">"


def _literal(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def organisation_profile(
    *,
    base_url: str,
    organisation_name: str,
    download_url: str,
    contact_email: str,
    organisation_uri: str = "",
) -> str:
    """The Organisation Profile Document (Turtle) that points equipment.data.ac.uk's harvester at
    the Uniquip download, licensed CC0, with a contact and a corrections address."""
    base_url = base_url.rstrip("/")
    organisation = organisation_uri or f"{base_url}/.well-known/openorg#organisation"
    mailto = _iri(f"mailto:{contact_email}")
    return "\n".join(
        [
            "@prefix oo: <http://purl.org/openorg/> .",
            "@prefix dcat: <http://www.w3.org/ns/dcat#> .",
            "@prefix dcterms: <http://purl.org/dc/terms/> .",
            "@prefix foaf: <http://xmlns.com/foaf/0.1/> .",
            "@prefix org: <http://www.w3.org/ns/org#> .",
            "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
            "",
            "<> a oo:OrganizationProfileDocument ;",
            f"    dcterms:license {_iri(CC0)} ;",
            f"    foaf:primaryTopic {_iri(organisation)} .",
            "",
            f"{_iri(organisation)} a org:FormalOrganization ;",
            f"    skos:prefLabel {_literal(organisation_name)} ;",
            f"    foaf:homepage {_iri(base_url + '/')} .",
            "",
            f"{_iri(download_url)} a dcat:Download ;",
            f"    oo:organization {_iri(organisation)} ;",
            "    dcterms:subject <http://purl.org/openorg/theme/Equipment> ;",
            "    dcterms:conformsTo <http://equipment.data.ac.uk/uniquip> ;",
            f"    dcterms:license {_iri(CC0)} ;",
            '    dcat:mediaType "text/csv" ;',
            f"    oo:contact {mailto} ;",
            f"    oo:corrections {mailto} .",
            "",
        ]
    )
