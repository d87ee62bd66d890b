"""The development mesh CA: issued once, reused, never renewed behind anyone's back."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from launcher.mesh_ca import MeshCertificateExpiring, development_mesh, issue
from services.common.mesh import IDENTITIES, MeshFiles, identity_of


def test_one_certificate_per_identity_named_by_it_and_signed_by_the_ca(tmp_path: Path) -> None:
    mesh = development_mesh(tmp_path)
    assert set(mesh) == set(IDENTITIES)
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())
    for identity, files in mesh.items():
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == identity
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert names.get_values_for_type(x509.DNSName) == [identity]
        cert.verify_directly_issued_by(ca)
        assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "ca.key").stat().st_mode) == 0o600


def test_a_second_start_reuses_what_the_first_issued(tmp_path: Path) -> None:
    first = development_mesh(tmp_path)
    before = {identity: files.cert.read_bytes() for identity, files in first.items()}
    second = development_mesh(tmp_path)
    assert {identity: files.cert.read_bytes() for identity, files in second.items()} == before


def test_a_certificate_near_its_end_stops_the_start_with_what_to_do(tmp_path: Path) -> None:
    development_mesh(tmp_path)
    ca = MeshFiles(ca=tmp_path / "ca.crt", cert=tmp_path / "ca.crt", key=tmp_path / "ca.key")
    issue(ca, "router", tmp_path, days=3)
    with pytest.raises(MeshCertificateExpiring, match=f"delete {tmp_path}"):
        development_mesh(tmp_path)


def test_component_names_map_to_identities() -> None:
    assert identity_of("processor_stripe") == "processor-stripe"
    assert identity_of("order_worker") == "order-worker"
    with pytest.raises(ValueError, match="no mesh identity"):
        identity_of("mallory")
