"""Resolves a plugin's ``dependencies.python_packages`` offline, before its container starts.

The orchestrator runs ``python3 -I -B -m classtop.deps`` in a one-shot container of the python
image (no network, read-only root, only ``--target`` writable). Each PEP 508 requirement is met by
what the image ships (Debian ``python3-*`` packages the operator baked in), or else by a wheel the
plugin carries in its signed bundle (``wheels/*.whl``), which pip installs with no index, no
dependencies and no builds into ``--target``. Nothing else is fetched or run. The outcome is a JSON
report (``--report``) the orchestrator reads; exit 0 means every requirement is met.
"""

import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import List, Optional, Sequence, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag, sys_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

PIP_TIMEOUT_S = 120
# The install's own output, kept in the report when pip fails: enough to say why.
PIP_OUTPUT_MAX_CHARS = 4000


@dataclass
class Wheel:
    file: str
    name: str
    version: Version
    tags: frozenset


@dataclass
class Resolution:
    requirement: str
    # image: met by the image; wheel: to install from the bundle; skipped: its marker is false
    # here; unsatisfied / invalid: the plugin cannot run.
    status: str
    detail: str
    wheel: Optional[str] = None


@dataclass
class Report:
    ok: bool
    requirements: List[Resolution] = field(default_factory=list)
    installed: List[str] = field(default_factory=list)
    error: Optional[str] = None


def bundled_wheels(directory: str) -> List[Wheel]:
    """The wheels in ``directory`` (a file whose name is not a wheel's is not one)."""
    if not os.path.isdir(directory):
        return []
    found = []
    for file in sorted(os.listdir(directory)):
        if not file.endswith(".whl"):
            continue
        try:
            name, version, _build, tags = parse_wheel_filename(file)
        except InvalidWheelFilename:
            continue
        found.append(Wheel(file, name, version, frozenset(tags)))
    return found


def installed_version(name: str) -> Optional[str]:
    """The version of distribution ``name`` the image ships, or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def resolve(text: str, wheels: Sequence[Wheel], supported: Sequence[Tag]) -> Resolution:
    """How one requirement is met: by the image, by a bundled wheel, or not at all (and why)."""
    try:
        req = Requirement(text)
    except InvalidRequirement as err:
        return Resolution(text, "invalid", f"{text!r} is not a PEP 508 requirement: {err}")
    if req.marker is not None and not req.marker.evaluate():
        return Resolution(text, "skipped", f"its marker ({req.marker}) is false in this image")
    have = installed_version(req.name)
    if have is not None and req.specifier.contains(have, prereleases=True):
        return Resolution(text, "image", f"the image has {req.name} {have}")
    name = canonicalize_name(req.name)
    ours = [w for w in wheels if w.name == name]
    usable = [w for w in ours if req.specifier.contains(w.version, prereleases=True) and w.tags & set(supported)]
    if usable:
        best = max(usable, key=lambda w: w.version)
        return Resolution(text, "wheel", f"the bundle carries {best.file}", best.file)
    image = f"the image has {req.name} {have}" if have is not None else f"the image does not have {req.name}"
    return Resolution(text, "unsatisfied", f"{text}: {image} and {why_no_wheel(req, ours, supported)}")


def why_no_wheel(req: Requirement, ours: Sequence[Wheel], supported: Sequence[Tag]) -> str:
    if not ours:
        return "the bundle carries no wheel for it"
    described = ", ".join(
        w.file + ("" if w.tags & set(supported) else " (not for this platform)") for w in ours
    )
    return f"no wheel the bundle carries satisfies it ({described})"


def pip_install(wheel_dir: str, files: Sequence[str], target: str) -> Tuple[bool, str]:
    """Installs exactly these wheels into ``target``: no index, no dependencies, no builds."""
    command = [
        sys.executable, "-I", "-B", "-m", "pip", "install", "--isolated", "--no-index", "--no-deps",
        "--only-binary", ":all:", "--no-compile", "--no-cache-dir", "--disable-pip-version-check",
        "--no-warn-script-location", "--target", target,
        *[os.path.join(wheel_dir, f) for f in files],
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return False, f"pip did not finish within {PIP_TIMEOUT_S} s"
    return done.returncode == 0, (done.stdout + done.stderr)[-PIP_OUTPUT_MAX_CHARS:]


def run(requirements: Sequence[str], wheel_dir: str, target: str) -> Report:
    supported = list(sys_tags())
    wheels = bundled_wheels(wheel_dir)
    resolved = [resolve(text, wheels, supported) for text in requirements]
    report = Report(ok=all(r.status in ("image", "wheel", "skipped") for r in resolved), requirements=resolved)
    to_install = sorted({r.wheel for r in resolved if r.wheel is not None})
    if not report.ok or not to_install:
        return report
    os.makedirs(target, exist_ok=True)
    installed, output = pip_install(wheel_dir, to_install, target)
    if not installed:
        report.ok = False
        report.error = f"pip could not install {', '.join(to_install)}: {output.strip()}"
        return report
    report.installed = to_install
    return report


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m classtop.deps", description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", required=True, help="the bundle's wheels/ directory (read-only)")
    parser.add_argument("--target", required=True, help="where the wheels are installed")
    parser.add_argument("--report", required=True, help="where the JSON report is written")
    parser.add_argument("requirements", nargs="*", help="PEP 508 requirement strings")
    args = parser.parse_args(argv)
    report = run(args.requirements, args.wheels, args.target)
    with open(args.report, "w", encoding="utf-8") as f:
        json.dump(asdict(report), f)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
