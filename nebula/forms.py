"""The base of every form on the site, for every app.

Templates show a form with the shared partials in ``templates/forms/``::

    {% include "forms/_form_errors.html" %}
    {% for field in form.visible_fields %}{% include "forms/_field.html" %}{% endfor %}

``_field.html`` gives the label, "(optional)", help text and errors of one field;
``_form_errors.html`` the errors that belong to no visible field.
"""

from django import forms


class NebulaForm(forms.Form):
    """A Django form with the CSS classes the site's stylesheet expects."""

    error_css_class = "field--error"
    required_css_class = "field--required"
