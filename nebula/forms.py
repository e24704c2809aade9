"""The base of every form on the site, for every app.

Templates show a form with the shared partials in ``nebula/templates/forms/``::

    {% include "forms/_form_errors.html" %}
    {% for field in form.visible_fields %}{% include "forms/_field.html" %}{% endfor %}

``_field.html`` gives the label, "(optional)", help text and errors of one field;
``_form_errors.html`` the errors that belong to no visible field.
"""

from typing import Any

from django import forms

from .email_addresses import InvalidEmailError, canonical_email


class NebulaForm(forms.Form):
    """A Django form with the CSS classes the site's stylesheet expects."""

    error_css_class = "field--error"
    required_css_class = "field--required"


class CanonicalEmailField(forms.EmailField):
    """An email field that cleans to the canonical address (``nebula.email_addresses``)."""

    def clean(self, value: Any) -> str:
        email = super().clean(value)
        if email in self.empty_values:
            return email
        try:
            return canonical_email(email)
        except InvalidEmailError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from exc
