"""The image holds every package the site imports: a new app is copied and compiled too.

`make container-test` proves the image works, but only where podman runs; this check
runs everywhere and names the missing folder at once.
"""

import re

import pytest
from django.conf import settings

from tests.support import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _site_packages() -> set[str]:
    """Return the project's own top-level packages the running site needs."""
    apps = {entry.split(".")[0] for entry in settings.INSTALLED_APPS}
    own = {name for name in apps if (ROOT / name / "__init__.py").exists()}
    return own | {"datalayer", "pictures"}


@pytest.mark.no_dynamodb
@pytest.mark.parametrize("package", sorted(_site_packages()))
def test_the_image_copies_and_compiles_each_package_of_the_site(package: str) -> None:
    assert re.search(rf"^COPY {package} \./{package}$", DOCKERFILE, re.M), package
    [compiled] = re.findall(r"compileall[^\n]*\n\s*([^\n]+)", DOCKERFILE)
    assert f"/app/{package}" in compiled.split(), package
