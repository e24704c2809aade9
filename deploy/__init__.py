"""The deploy command (``make deploy``): one release of Nebula to one AWS environment.

An operator tool, not part of the site: the site never imports it (import-linter),
and the image never contains it (``.dockerignore``). Steps, flags and failure
behaviour: docs/deploy.md, "The deploy command".
"""
