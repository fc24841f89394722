"""The PEP 517 build backend of the mvm Python package, written with the standard library only.

Why an in-tree backend: pip builds a package in an isolated environment and installs the backend's
requirements there first. setuptools, hatchling or flit_core would have to come from a package index, and
the machines mvm is built and tested on (CI among them) have none. This backend needs nothing
(`requires = []` in pyproject.toml), so `pip install ./python` works offline (PIP_NO_INDEX=1).

It builds a pure-Python wheel (py3-none-any) of the `mvm` folder with its .dist-info (METADATA, WHEEL,
RECORD with sha256 hashes), an sdist (.tar.gz), and an editable wheel (a .pth file naming this folder).
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "mvm"
TAG = "py3-none-any"
# files of the source tree an sdist carries (besides the package folder)
SDIST_EXTRA = ["pyproject.toml", "README.md", "_build/mvm_build.py"]


def _project():
    """The [project] table of pyproject.toml (tomllib on Python 3.11+, else a reader of the simple keys)."""
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        raw = f.read()
    try:
        import tomllib
    except ImportError:
        tomllib = None
    if tomllib is not None:
        return tomllib.loads(raw.decode("utf-8"))["project"]
    text = raw.decode("utf-8").split("[project]", 1)[1].split("\n[", 1)[0]
    project = {k: v for k, v in re.findall(r'^([\w-]+)\s*=\s*"([^"]*)"', text, re.M)}
    extras = re.search(r"\[project\.optional-dependencies\]\n((?:\w+\s*=.*\n?)*)", raw.decode("utf-8"))
    if extras:
        project["optional-dependencies"] = {
            k: re.findall(r'"([^"]+)"', v) for k, v in re.findall(r"^(\w+)\s*=\s*(\[.*\])", extras.group(1), re.M)
        }
    return project


def _names():
    project = _project()
    name = re.sub(r"[-_.]+", "_", project["name"]).lower()
    return project, name, project["version"]


def _metadata():
    """The METADATA (and PKG-INFO) text: core metadata 2.1."""
    project, _, version = _names()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {version}",
        f"Summary: {project.get('description', '')}",
    ]
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    for classifier in project.get("classifiers", []):
        lines.append(f"Classifier: {classifier}")
    for dep in project.get("dependencies", []):
        lines.append(f"Requires-Dist: {dep}")
    for extra, deps in sorted(project.get("optional-dependencies", {}).items()):
        lines.append(f"Provides-Extra: {extra}")
        for dep in deps:
            lines.append(f'Requires-Dist: {dep}; extra == "{extra}"')
    body = ""
    readme = os.path.join(ROOT, "README.md")
    if os.path.isfile(readme):
        lines.append("Description-Content-Type: text/markdown")
        with open(readme, encoding="utf-8") as f:
            body = f.read()
    return "\n".join(lines) + "\n\n" + body


def _wheel_text():
    return f"Wheel-Version: 1.0\nGenerator: mvm_build\nRoot-Is-Purelib: true\nTag: {TAG}\n"


def _package_files():
    """(path in the wheel, path on disk) of every file of the package, sorted; caches and bytecode left out."""
    out = []
    base = os.path.join(ROOT, PACKAGE)
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            disk = os.path.join(folder, name)
            out.append((os.path.relpath(disk, ROOT).replace(os.sep, "/"), disk))
    return out


def _hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"sha256={digest}"


def _write_wheel(wheel_directory, contents):
    """Writes a wheel of CONTENTS ((name, bytes) pairs) plus its dist-info, and returns the wheel's file name."""
    _, name, version = _names()
    dist_info = f"{name}-{version}.dist-info"
    contents = list(contents) + [
        (f"{dist_info}/METADATA", _metadata().encode("utf-8")),
        (f"{dist_info}/WHEEL", _wheel_text().encode("utf-8")),
    ]
    record = "".join(f"{path},{_hash(data)},{len(data)}\n" for path, data in contents)
    record += f"{dist_info}/RECORD,,\n"
    contents.append((f"{dist_info}/RECORD", record.encode("utf-8")))
    filename = f"{name}-{version}-{TAG}.whl"
    # a fixed date (the SOURCE_DATE_EPOCH when set) makes the same tree give the same wheel, byte for byte
    stamp = time.gmtime(max(int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")), 315532800))[:6]
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in contents:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return filename


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def get_requires_for_build_wheel(config_settings=None):
    """Nothing: this backend needs only the standard library."""
    return []


def get_requires_for_build_sdist(config_settings=None):
    """Nothing: this backend needs only the standard library."""
    return []


def get_requires_for_build_editable(config_settings=None):
    """Nothing: this backend needs only the standard library."""
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    """Writes NAME-VERSION.dist-info (METADATA, WHEEL) into metadata_directory; returns its name."""
    _, name, version = _names()
    dist_info = f"{name}-{version}.dist-info"
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    with open(os.path.join(metadata_directory, dist_info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    with open(os.path.join(metadata_directory, dist_info, "WHEEL"), "w", encoding="utf-8") as f:
        f.write(_wheel_text())
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """Builds the wheel (the mvm package, py.typed included) into wheel_directory; returns its file name."""
    return _write_wheel(wheel_directory, [(path, _read(disk)) for path, disk in _package_files()])


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """Builds an editable wheel: a .pth file that puts this source folder on sys.path."""
    _, name, _ = _names()
    return _write_wheel(wheel_directory, [(f"_{name}_editable.pth", (ROOT + "\n").encode("utf-8"))])


def build_sdist(sdist_directory, config_settings=None):
    """Builds NAME-VERSION.tar.gz: PKG-INFO, pyproject.toml, the backend, README and the package."""
    _, name, version = _names()
    base = f"{name}-{version}"
    filename = f"{base}.tar.gz"
    files = [(p, os.path.join(ROOT, p)) for p in SDIST_EXTRA if os.path.isfile(os.path.join(ROOT, p))]
    files += _package_files()

    def add(tar, path, data):
        info = tarfile.TarInfo(f"{base}/{path}")
        info.size = len(data)
        info.mode = 0o644
        info.mtime = 315532800
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        add(tar, "PKG-INFO", _metadata().encode("utf-8"))
        for path, disk in files:
            add(tar, path, _read(disk))
    return filename
