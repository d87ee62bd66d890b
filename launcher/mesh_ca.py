"""The development mesh CA: on first start, `payloops up` writes a CA and one certificate
per component identity into <data dir>/mesh; later starts reuse them. Nothing is renewed
silently: a certificate near its end stops the start with what to do. Production mounts
certificates from its own issuer instead (deploy/README.md)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.common.mesh import IDENTITIES, MeshFiles

CA_DAYS = 3650
LEAF_DAYS = 825
RENEW_BEFORE = datetime.timedelta(days=7)


class MeshCertificateExpiring(Exception):
    pass


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pkcs8 = serialization.PrivateFormat.PKCS8
    data = key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def create_ca(directory: Path, name: str = "PayLoops development mesh CA") -> MeshFiles:
    """A new self-signed CA in `directory` (ca.crt, ca.key); its MeshFiles hold the CA
    itself as certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write_key(directory / "ca.key", key)
    _write_cert(directory / "ca.crt", cert)
    return MeshFiles(ca=directory / "ca.crt", cert=directory / "ca.crt", key=directory / "ca.key")


def issue(ca: MeshFiles, identity: str, directory: Path, days: int = LEAF_DAYS) -> MeshFiles:
    """A certificate for `identity` (common name and DNS name), signed by `ca`, usable as
    both server and client."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, identity)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(min(_now() + datetime.timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(identity)]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = MeshFiles(ca=ca.cert, cert=directory / f"{identity}.crt", key=directory / f"{identity}.key")
    _write_key(files.key, key)
    _write_cert(files.cert, cert)
    return files


def _check_validity(path: Path) -> None:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    if cert.not_valid_after_utc - _now() < RENEW_BEFORE:
        raise MeshCertificateExpiring(
            f"the mesh certificate {path} ends on {cert.not_valid_after_utc:%Y-%m-%d}: "
            f"delete {path.parent} to issue a new development CA and certificates"
        )


def development_mesh(directory: Path) -> dict[str, MeshFiles]:
    """The CA and every identity's certificate in `directory`, created where missing."""
    ca_files = MeshFiles(ca=directory / "ca.crt", cert=directory / "ca.crt", key=directory / "ca.key")
    if not ca_files.cert.exists():
        ca_files = create_ca(directory)
    found = {}
    for identity in IDENTITIES:
        files = MeshFiles(ca=ca_files.cert, cert=directory / f"{identity}.crt", key=directory / f"{identity}.key")
        if not (files.cert.exists() and files.key.exists()):
            files = issue(ca_files, identity, directory)
        found[identity] = files
    for path in [ca_files.cert, *(files.cert for files in found.values())]:
        _check_validity(path)
    return found


def mesh_env(files: MeshFiles) -> dict[str, str]:
    """The environment that gives a component its mesh identity."""
    return {"MESH_CA_FILE": str(files.ca), "MESH_CERT_FILE": str(files.cert), "MESH_KEY_FILE": str(files.key)}
