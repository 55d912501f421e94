"""The three places that name dependencies agree: pyproject.toml, environment.yml, requirements.lock."""
from __future__ import annotations

import re
import tomllib

import yaml

from pipeline import paths as config

ROOT = config.PROJECT_ROOT
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9A-Za-z.+!-]+)$")


def normalize(name: str) -> str:
    """PEP 503: Foo_Bar, foo.bar and foo-bar are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines) -> dict[str, str]:
    """{package: version} of `name==version` lines; anything else (comments, -e .) is not a pin."""
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = PIN.match(line)
        assert match, f"not pinned as name==version: {line}"
        found[normalize(match[1])] = match[2]
    return found


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return pins(project["dependencies"] + project["optional-dependencies"]["test"])


def test_pyproject_pins_every_direct_dependency():
    assert len(pyproject_pins()) >= 10


def test_environment_yml_pins_the_same_direct_dependencies():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["name"] == "inspection-pipeline"
    conda = [dep for dep in env["dependencies"] if isinstance(dep, str)]
    assert "python=3.11" in conda
    pip_section = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    assert pins(pip_section) == pyproject_pins()


def test_requirements_lock_pins_each_direct_dependency_at_the_same_version():
    lock = pins((ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines())
    mismatched = {name: (version, lock.get(name)) for name, version in pyproject_pins().items()
                  if lock.get(name) != version}
    assert not mismatched, f"pyproject.toml vs requirements.lock: {mismatched}"
    assert "inspection-pipeline" not in lock, "requirements.lock must not pin the project itself"
