"""The benchmark's plain Django site renders the same pages as Nebula's.

``make bench`` compares the CPU of the same pages on both sites: its templates are
copies of Nebula's, with the substitutions below for what Django's ORM user calls
otherwise. When a Nebula page grows (as the profile page did with its picture
form), this fails until the baseline's copy grows with it.
"""

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.no_dynamodb

BASELINE = ROOT / "bench" / "baseline" / "templates"
COPIES = {
    "templates/base.html": "base.html",
    "templates/home.html": "home.html",
    "accounts/templates/accounts/login.html": "accounts/login.html",
    "accounts/templates/accounts/profile.html": "accounts/profile.html",
    "accounts/templates/accounts/sessions.html": "accounts/sessions.html",
    "nebula/templates/forms/_field.html": "forms/_field.html",
    "nebula/templates/forms/_form_errors.html": "forms/_form_errors.html",
}
# Nebula's user -> Django's: is_active stands for a verified address.
SUBSTITUTIONS = [
    ("not request.user.email_verified", "not request.user.is_active"),
    ("{% if user.email_verified %}", "{% if user.is_active %}"),
    ("user.can_start_jobs", "user.is_active"),
]
HEADER = "{# A copy of Nebula's template for the benchmark baseline"


def _without_header(text: str) -> str:
    first, _, rest = text.partition("\n")
    return rest if first.startswith(HEADER) else text


@pytest.mark.parametrize(("nebula", "copy"), COPIES.items(), ids=COPIES.values())
def test_the_baseline_template_is_nebula_s(nebula: str, copy: str) -> None:
    expected = (ROOT / nebula).read_text()
    for ours, theirs in SUBSTITUTIONS:
        expected = expected.replace(ours, theirs)

    assert _without_header((BASELINE / copy).read_text()) == expected


def test_every_baseline_template_is_checked() -> None:
    templates = {str(p.relative_to(BASELINE)) for p in BASELINE.rglob("*.html")}
    assert templates == set(COPIES.values())
