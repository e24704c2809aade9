"""The shared form base and field templates every app's pages use."""

import pytest
from django import forms
from django.template import Context, Template

from nebula.forms import NebulaForm

pytestmark = pytest.mark.no_dynamodb

PAGE = Template(
    '{% include "forms/_form_errors.html" %}'
    '{% for field in form.visible_fields %}{% include "forms/_field.html" %}{% endfor %}'
)


class ExampleForm(NebulaForm):
    name = forms.CharField(label="Your name", help_text="As people should see it.")
    nickname = forms.CharField(label="Nickname", required=False)
    agree = forms.BooleanField(label="I agree")
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("name") == "taken":
            raise forms.ValidationError("That name is taken.")
        return data


def _render(form: forms.Form) -> str:
    return PAGE.render(Context({"form": form}))


def test_a_field_shows_its_label_help_and_whether_it_is_optional() -> None:
    html = _render(ExampleForm())

    assert '<label for="id_name">Your name</label>' in html
    assert "As people should see it." in html
    assert 'Nickname <span class="field__optional">(optional)</span>' in html
    assert 'class="field field--check' in html  # the checkbox beside its label


def test_errors_are_shown_by_the_field_they_belong_to() -> None:
    form = ExampleForm({"name": "taken", "version": "1"})
    form.is_valid()
    html = _render(form)

    assert "This field is required." in html  # the checkbox
    assert "That name is taken." in html  # a form-wide error, at the top
    assert html.index("That name is taken.") < html.index("Your name")


def test_a_broken_hidden_field_says_to_reload_the_page() -> None:
    form = ExampleForm({"name": "Ann", "agree": "on", "version": "not a number"})
    form.is_valid()

    assert "Reload the page and try again." in _render(form)


def test_the_stylesheet_classes_mark_required_and_wrong_fields() -> None:
    form = ExampleForm({"agree": "on", "version": "1"})
    form.is_valid()

    assert "field--required" in form["name"].css_classes()
    assert "field--error" in form["name"].css_classes()
    assert "field--required" not in form["nickname"].css_classes()
