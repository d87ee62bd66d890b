"""Regenerate everything derived from proto/: the Python stubs (with type stubs) in
clients/python and the Envoy descriptor set gateway/payloops.binpb.

usage: python scripts/generate.py [--check]

--check regenerates into a scratch directory and exits 1 if the committed output
differs (CI's freshness check).
"""

from __future__ import annotations

import argparse
import filecmp
import pathlib
import shutil
import subprocess
import sys
import tempfile

import grpc_tools

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO_ROOTS = [ROOT / "proto", ROOT / "gateway" / "proto"]
INCLUDES = [
    *(r for r in PROTO_ROOTS if r.exists()),
    ROOT / "third_party" / "googleapis",
    pathlib.Path(grpc_tools.__file__).parent / "_proto",
]
STUBS = pathlib.PurePath("clients/python")
DESCRIPTOR_SET = pathlib.PurePath("gateway/payloops.binpb")
BIN = pathlib.Path(sys.executable).parent


def proto_files() -> list[pathlib.Path]:
    return sorted(p for root in PROTO_ROOTS if root.exists() for p in root.rglob("*.proto"))


def generate_stubs(out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    files = proto_files()
    args = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        *(f"-I{inc}" for inc in INCLUDES),
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        f"--python_out={out}",
        f"--mypy_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_grpc_out={out}",
        *(str(f) for f in files),
    ]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"protoc failed:\n{done.stdout}{done.stderr}")
    for directory in sorted({p.parent for p in out.rglob("*_pb2.py")}):
        while directory != out:
            (directory / "__init__.py").touch()
            directory = directory.parent
    (out / "py.typed").touch()


def build_descriptor_set(out: pathlib.Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "buf"), "build", "-o", str(out)], check=True, cwd=ROOT)


def generate(into: pathlib.Path) -> None:
    generate_stubs(into / STUBS)
    build_descriptor_set(into / DESCRIPTOR_SET)


def differences(left: pathlib.Path, right: pathlib.Path) -> list[str]:
    def walk(cmp: filecmp.dircmp[str], prefix: str) -> list[str]:
        found = [f"{prefix}{n}" for n in cmp.left_only + cmp.right_only + cmp.diff_files + cmp.funny_files]
        for name, sub in cmp.subdirs.items():
            found += walk(sub, f"{prefix}{name}/")
        return found

    ignore = ["__pycache__", "*.egg-info"]
    return walk(filecmp.dircmp(left, right, ignore=ignore), "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="fail if the committed output is stale")
    check = ap.parse_args().check
    if not check:
        shutil.rmtree(ROOT / STUBS, ignore_errors=True)
        generate(ROOT)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = pathlib.Path(tmp)
        generate(fresh)
        stale = differences(ROOT / STUBS, fresh / STUBS)
        if not filecmp.cmp(ROOT / DESCRIPTOR_SET, fresh / DESCRIPTOR_SET, shallow=False):
            stale.append(str(DESCRIPTOR_SET))
    for name in stale:
        print(f"stale generated file: {name}")
    if stale:
        print("run: python scripts/generate.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
