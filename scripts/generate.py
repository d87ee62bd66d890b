"""Regenerate everything derived from proto/: the Python stubs (with type stubs) in
clients/python (beside the hand-written SDK, which this leaves alone), the Envoy
descriptor set gateway/payloops.binpb, and from it the OpenAPI document
gateway/openapi.json and its rendering docs/api-reference.md.

usage: python scripts/generate.py [--check]

--check regenerates into a scratch directory and exits 1 if the committed output
differs (CI's freshness check).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import pathlib
import subprocess
import sys
import tempfile

import grpc_tools

from gateway.openapi import openapi_document, reference_markdown

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO_ROOTS = [ROOT / "proto", ROOT / "gateway" / "proto"]
INCLUDES = [
    *(r for r in PROTO_ROOTS if r.exists()),
    ROOT / "third_party" / "googleapis",
    pathlib.Path(grpc_tools.__file__).parent / "_proto",
]
STUBS = pathlib.PurePath("clients/python")
DESCRIPTOR_SET = pathlib.PurePath("gateway/payloops.binpb")
OPENAPI = pathlib.PurePath("gateway/openapi.json")
REFERENCE = pathlib.PurePath("docs/api-reference.md")
GENERATED_STUBS = ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py", "*_pb2_grpc.pyi")
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
    (out / "payloops" / "py.typed").touch()


def build_descriptor_set(out: pathlib.Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "buf"), "build", "-o", str(out)], check=True, cwd=ROOT)


def write_openapi(into: pathlib.Path) -> None:
    document = openapi_document((into / DESCRIPTOR_SET).read_bytes())
    (into / OPENAPI).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    (into / REFERENCE).parent.mkdir(parents=True, exist_ok=True)
    (into / REFERENCE).write_text(reference_markdown(document))


def generate(into: pathlib.Path) -> None:
    generate_stubs(into / STUBS)
    build_descriptor_set(into / DESCRIPTOR_SET)
    write_openapi(into)


def stub_files(root: pathlib.Path) -> set[pathlib.PurePath]:
    return {p.relative_to(root) for pattern in GENERATED_STUBS for p in root.rglob(pattern)}


def remove_stubs(root: pathlib.Path) -> None:
    for name in stub_files(root):
        (root / name).unlink()


def differences(committed: pathlib.Path, fresh: pathlib.Path) -> list[str]:
    """The generated files that differ, are missing, or should not be there."""
    names = stub_files(committed) | stub_files(fresh)
    return sorted(
        str(STUBS / name)
        for name in names
        if not (committed / name).exists()
        or not (fresh / name).exists()
        or not filecmp.cmp(committed / name, fresh / name, shallow=False)
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="fail if the committed output is stale")
    check = ap.parse_args().check
    if not check:
        remove_stubs(ROOT / STUBS)
        generate(ROOT)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = pathlib.Path(tmp)
        generate(fresh)
        stale = differences(ROOT / STUBS, fresh / STUBS)
        for output in (DESCRIPTOR_SET, OPENAPI, REFERENCE):
            if not (ROOT / output).exists() or not filecmp.cmp(ROOT / output, fresh / output, shallow=False):
                stale.append(str(output))
    for name in stale:
        print(f"stale generated file: {name}")
    if stale:
        print("run: python scripts/generate.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
