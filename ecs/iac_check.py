"""Check the infrastructure offline (``make iac-check``): nothing here reaches AWS.

Run with the IaC virtualenv's Python (``.venv-iac``, from ``requirements-iac.txt``),
which holds cfn-lint, cfn-lint-serverless, aws-sam-translator, checkov, hadolint
and actionlint; cfn-guard is the static binary of the npm package in ``ecs/tools/``,
shellcheck Debian's (``apt-get install shellcheck``).
Steps, each printing ``ok`` or ``FAIL`` with the tool's own output on failure:

1. every SAM template (``Transform: AWS::Serverless-2016-10-31``) in
   ``ecs/templates/`` has its ``AWS::Include`` of local files inlined, as
   CloudFormation does before the transform (``lambdas.yaml`` includes the API's
   one definition, ``lambdas/openapi.json``), into ``ecs/.build/<name>.included.json``,
   and is expanded to plain CloudFormation with aws-sam-translator, offline (its
   bundled managed-policy map instead of an IAM call), into
   ``ecs/.build/<name>.json``, which ``tests/ecs/`` reads too;
2. cfn-lint with the cfn-lint-serverless rules on every template (SAM ones as
   they are: cfn-lint runs the transform itself), on the SAM ones with their
   includes inlined and on every expanded template;
3. checkov (``--skip-download``) on the plain templates and the SAM ones with
   their includes inlined (it reads SAM natively);
4. cfn-guard with the project rules (``ecs/guard/``) on the plain and the
   expanded templates;
5. hadolint on the Dockerfile;
6. actionlint on the GitHub workflows (``.github/workflows/``), with shellcheck
   on their ``run:`` blocks: required, so that a machine without it cannot pass
   what another fails.

A finding is accepted only by a skip written beside the resource with its
reason (``Metadata: checkov: skip`` / ``cfn-lint: config: ignore_checks``);
docs/deploy.md, "The offline gate", lists them. Exit status 1 if any step failed.
"""

import copy
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "ecs" / "templates"
BUILD = ROOT / "ecs" / ".build"
GUARD_RULES = ROOT / "ecs" / "guard"
CFN_GUARD = (
    ROOT / "ecs/tools/node_modules/@cdklabs/cdk-validator-cfnguard/bin/ubuntu/x86_64/cfn-guard"
)
BIN = Path(sys.executable).parent
WORKFLOWS = ROOT / ".github" / "workflows"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
INCLUDE = "AWS::Include"
# Pseudo parameters the translator needs; no value reaches a real account.
SAM_PARAMETERS = {"AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}


def is_sam(template: Path) -> bool:
    """Return whether the template uses the SAM transform."""
    return SAM_TRANSFORM in template.read_text()


def inline_includes(node: Any, base: Path) -> Any:
    """Return ``node`` with every ``AWS::Include`` of a local file replaced by the file.

    What CloudFormation does with the uploaded copy before the SAM transform runs
    (the template's local ``Location`` is relative to the template, as for
    ``aws cloudformation package``), so the offline checks see the included text.
    """
    from samtranslator.yaml_helper import yaml_parse

    if isinstance(node, list):
        return [inline_includes(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    transform = node.get("Fn::Transform")
    if len(node) == 1 and isinstance(transform, dict) and transform.get("Name") == INCLUDE:
        location = transform["Parameters"]["Location"]
        if not isinstance(location, str) or "://" in location:
            raise RuntimeError(f"AWS::Include of {location!r}: only a local file is checked")
        included = (base / location).resolve()
        if not included.is_file():
            raise RuntimeError(f"AWS::Include of {location!r}: {included} does not exist")
        return inline_includes(yaml_parse(included.read_text()), included.parent)
    return {key: inline_includes(value, base) for key, value in node.items()}


def expand_sam(template: Path, included_target: Path, target: Path) -> None:
    """Expand a SAM template to plain CloudFormation JSON, offline.

    Writes the template with its includes inlined to ``included_target`` and its
    expansion to ``target``.
    """
    os.environ.setdefault("AWS_DEFAULT_REGION", SAM_PARAMETERS["AWS::Region"])
    from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class BundledPolicies:
        """The managed-policy map shipped with SAM, in place of iam:ListPolicies."""

        def load(self) -> dict[str, str]:
            return get_bundled_managed_policy_map("aws")

    # SAM warns that it has no feature-toggle configuration (there is none offline).
    logging.getLogger("samtranslator.feature_toggle").setLevel(logging.ERROR)
    included = inline_includes(yaml_parse(template.read_text()), template.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    included_target.write_text(json.dumps(included, indent=1) + "\n")
    try:
        # transform() edits what it is given: hand it a copy.
        expanded = transform(copy.deepcopy(included), SAM_PARAMETERS, BundledPolicies())
    except InvalidDocumentException as exc:
        causes = "\n".join(str(cause) for cause in exc.causes)
        raise RuntimeError(f"SAM could not expand {template.name}:\n{causes}") from exc
    target.write_text(json.dumps(expanded, indent=1, sort_keys=True) + "\n")


def run(*command: str | Path) -> tuple[bool, str]:
    """Run a tool; return whether it passed and what it printed."""
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False, cwd=ROOT
    )
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def timed(step: Callable[[], tuple[bool, str]]) -> tuple[bool, str, float]:
    """Run a step; return whether it passed, its output and its seconds."""
    begin = time.monotonic()
    passed, output = step()
    return passed, output, time.monotonic() - begin


def main() -> int:
    """Run every step, print one line each, and return the exit status."""
    templates = sorted(TEMPLATES.glob("*.yaml"))
    sam = [t for t in templates if is_sam(t)]
    plain = [t for t in templates if t not in sam]
    included = [BUILD / f"{t.stem}.included.json" for t in sam]
    expanded = [BUILD / f"{t.stem}.json" for t in sam]
    rules = sorted(GUARD_RULES.glob("*.guard"))

    def expand() -> tuple[bool, str]:
        for template, included_target, target in zip(sam, included, expanded, strict=True):
            try:
                expand_sam(template, included_target, target)
            except RuntimeError as exc:
                return False, str(exc)
        return True, ""

    def guard() -> tuple[bool, str]:
        if not CFN_GUARD.exists():
            return False, f"{CFN_GUARD} is missing: run `make iac-tools`"
        data = [arg for path in [*plain, *expanded] for arg in ("--data", path)]
        rule_args = [arg for path in rules for arg in ("--rules", path)]
        return run(CFN_GUARD, "validate", *rule_args, *data, "--show-summary", "fail")

    def workflows() -> tuple[bool, str]:
        files = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
        shellcheck = shutil.which("shellcheck")
        if shellcheck is None:
            return False, "shellcheck is missing: apt-get install shellcheck"
        if not files:
            return False, f"no workflow in {WORKFLOWS.relative_to(ROOT)}"
        # pyflakes off: no step runs Python inline; shellcheck named, never looked up.
        return run(
            BIN / "actionlint", "-oneline", "-pyflakes=", f"-shellcheck={shellcheck}", *files
        )

    # After the expansion the tools are independent: run them side by side (checkov
    # alone takes most of the time) and report in this order.
    checks: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
        (
            "cfn-lint + cfn-lint-serverless, templates and expanded SAM templates",
            lambda: run(
                BIN / "cfn-lint",
                "-a",
                "cfn_lint_serverless.rules",
                "-t",
                *templates,
                *included,
                *expanded,
            ),
        ),
        (
            "checkov",
            lambda: run(
                BIN / "checkov",
                # The plain templates, and the SAM ones with their includes inlined (given
                # both a directory and files, checkov reads the directory only).
                *[arg for path in [*plain, *included] for arg in ("--file", path)],
                "--framework",
                "cloudformation",
                "--skip-download",
                "--compact",
                "--quiet",
            ),
        ),
        ("cfn-guard, project rules", guard),
        ("hadolint, Dockerfile", lambda: run(BIN / "hadolint", "--no-color", "Dockerfile")),
        ("actionlint + shellcheck, GitHub workflows", workflows),
    ]
    started = time.monotonic()
    results = [(f"SAM expansion ({', '.join(t.name for t in sam)})", *timed(expand))]
    if results[0][1]:
        with ThreadPoolExecutor(max_workers=len(checks)) as pool:
            futures = [(name, pool.submit(timed, check)) for name, check in checks]
            results += [(name, *future.result()) for name, future in futures]
    else:
        results += [(name, False, "not run: the expansion failed", 0.0) for name, _ in checks]
    failed = 0
    for name, passed, output, seconds in results:
        print(f"{'ok  ' if passed else 'FAIL'} {name} ({seconds:.1f} s)")
        if not passed:
            failed += 1
            print("    " + output.replace("\n", "\n    "))
    print(f"took {time.monotonic() - started:.1f} s")
    print(f"iac-check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
