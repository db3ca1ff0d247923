"""``migration-harness init [DIR]``: the start of a user's own repository of scenarios.

It writes an example scenario (a Xen VM after a cloned storage stack, in every constraint style),
the pytest configuration under which ``pytest -m migration`` collects the scenarios, an example of
users' own tests (``migration_cluster``, ``migration_nodes``), and CI pipelines for GitHub Actions
and GitLab that install the harness as a dependency, run the simulate and local tiers on every
push and the nested tier where a runner has KVM, and keep evidence, JUnit XML and the HTML page.
The templates are package data (``harness/templates/init``); nothing existing is overwritten
without ``--force``.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from .errors import InputError

# Template (harness/templates/init/NAME) -> where it goes in the user's repository. Templates carry
# plain names: dot-files and dot-directories are easy to lose in package data.
FILES = {
    "scenario.yaml": "scenarios/my-xen-vm.yaml",
    "pytest.ini": "pytest.ini",
    "test_cluster.py": "tests/test_cluster.py",
    "github-actions.yml": ".github/workflows/migration-harness.yml",
    "gitlab-ci.yml": ".gitlab-ci.yml",
}
# Where the pipelines say what pip installs (the CI variable MIGRATION_HARNESS_PIP's default).
SPEC_MARK = "@MIGRATION_HARNESS_SPEC@"
EXIT_OK = 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="start a repository of your own scenarios: example, pytest config, CI pipelines")
    p.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="where (default: the current directory; created if missing)",
    )
    p.add_argument("--force", action="store_true", help="overwrite files that already exist")
    p.add_argument(
        "--harness",
        default="",
        metavar="PIP-SPEC",
        help="what the pipelines pip-install, e.g. 'migration-harness[nested] @ git+https://...@v0.1.0' "
        "or a wheel (default: empty, to be set as the CI variable MIGRATION_HARNESS_PIP)",
    )
    p.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    written = scaffold(args.directory, force=args.force, harness=args.harness)
    for path in written:
        print(f"wrote {path}")
    print(next_steps(args.directory, args.harness))
    return EXIT_OK


def template(name: str) -> str:
    return resources.files(__package__).joinpath("templates", "init", name).read_text(encoding="utf-8")


def scaffold(directory: Path, *, force: bool = False, harness: str = "") -> list[Path]:
    """Write every file of ``FILES`` under ``directory``; refuse (InputError, exit 2) to overwrite
    existing ones unless ``force``, naming them all. Returns the paths written."""
    if directory.exists() and not directory.is_dir():
        raise InputError("is not a directory", path=directory, hint="give a directory (created if missing)")
    if any(c in harness for c in "\n'\""):
        raise InputError(
            f"--harness {harness!r}: quotes and newlines cannot go into the pipelines",
            hint="a pip requirement such as 'migration-harness[nested] @ git+https://...'",
        )
    targets = {name: directory / where for name, where in FILES.items()}
    existing = [path for path in targets.values() if path.exists()]
    if existing and not force:
        raise InputError(
            "would overwrite " + ", ".join(str(p) for p in existing),
            path=directory,
            hint="move them away, or add --force to overwrite them",
        )
    written = []
    for name, path in targets.items():
        text = template(name).replace(SPEC_MARK, harness)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror or exc}", path=path) from None
        written.append(path)
    return written


def next_steps(directory: Path, harness: str) -> str:
    where = "" if directory == Path(".") else f"cd {directory} && "
    lines = [
        "",
        "next:",
        f"  {where}pytest -m migration                      # the example scenario on the simulate tier",
        f"  {where}migration-harness run scenarios/ --html report.html",
        "  replace scenarios/my-xen-vm.yaml by your cluster's configuration (crm configure show)",
    ]
    if not harness:
        lines.append(
            "  set the CI variable MIGRATION_HARNESS_PIP to what pip installs (a wheel or a git URL,"
            " with the [nested] extra): see the top of the pipeline files"
        )
    return "\n".join(lines)
