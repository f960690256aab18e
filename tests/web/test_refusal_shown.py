"""web.forms.refusal_shown: the one way a page shows a service's refusal (issue 17 point 9)."""

import pytest
from flask import get_flashed_messages
from wtforms import StringField

from core.errors import InvalidInput, NotFound
from web.forms import KitshareForm, refusal_shown


class NameForm(KitshareForm):
    name = StringField("Name")


@pytest.fixture
def form(app):
    with app.test_request_context(method="POST"):
        yield NameForm(meta={"csrf": False})


def test_a_call_that_goes_through_succeeds_and_shows_nothing(form):
    with refusal_shown(form) as outcome:
        pass
    assert outcome.succeeded and not outcome.flashed
    assert not form.name.errors and not form.form_errors and get_flashed_messages() == []


def test_a_refusal_naming_a_field_goes_beside_that_field(form):
    with refusal_shown(form) as outcome:
        raise InvalidInput(field_errors={"name": ["That name is taken."]})
    assert not outcome.succeeded and not outcome.flashed
    assert form.name.errors == ["That name is taken."]
    assert get_flashed_messages() == []


def test_a_service_parameter_is_shown_on_the_form_field_it_maps_to(form):
    with refusal_shown(form, field_names={"full_name": "name"}):
        raise InvalidInput(field_errors={"full_name": ["Too long."]})
    assert form.name.errors == ["Too long."]


def test_without_a_form_every_message_is_flashed(form):
    with refusal_shown() as outcome:
        raise InvalidInput(field_errors={"a": ["First."], "b": ["Second."]})
    assert outcome.flashed and not outcome.succeeded
    assert get_flashed_messages(with_categories=True) == [("error", "First."), ("error", "Second.")]


def test_a_refusal_naming_no_field_can_be_flashed_instead_of_put_on_the_form(form):
    with refusal_shown(form, flash_unless_fields=True) as outcome:
        raise InvalidInput("It was decided already.")
    assert outcome.flashed
    assert get_flashed_messages() == ["It was decided already."] and form.form_errors == []


def test_other_errors_pass_on_to_the_error_pages(form):
    with pytest.raises(NotFound):
        with refusal_shown(form):
            raise NotFound("There is no such booking.")
