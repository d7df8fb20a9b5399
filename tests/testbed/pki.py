"""Throwaway PKI for the test bed: a CA, a TLS server cert, a token-signing key, a fake AAD key.

Everything is written as PEM into a state directory. Nothing here is secret beyond the test run.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
SERVER_CERT = "server.pem"
SERVER_KEY = "server-key.pem"
TOKEN_CERT = "token.pem"
TOKEN_KEY = "token-key.pem"
TOKEN_BUNDLE = "token-bundle.pem"  # rootcertbundle for the registry: CA + token-signing cert
AAD_KEY = "aad-key.pem"


def libtrust_key_id(public_key: Any) -> str:
    """The libtrust key ID distribution uses to match a JWT header ``kid`` to a trusted key.

    SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32 (no padding),
    split into 12 groups of 4 characters joined by ':'.
    """
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashlib.sha256(der).digest()[:30]  # 240 bits
    b32 = base64.b32encode(digest).decode("ascii").rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, 48, 4))


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "azurecr test bed"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(path, 0o600)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _issue(
    subject_cn: str,
    key: rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    *,
    server: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject_cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if server:
        builder = (
            builder.add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                        x509.DNSName("localhost"),
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_encipherment=True,
                    content_commitment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    return builder.sign(ca_key, hashes.SHA256())


def create_pki(state_dir: str | os.PathLike[str]) -> None:
    """Create every key and certificate in ``state_dir`` (overwrites)."""
    d = Path(state_dir)
    d.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)

    ca_key = _key()
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("azurecr test bed CA"))
        .issuer_name(_name("azurecr test bed CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(d / CA_KEY, ca_key)
    (d / CA_CERT).write_bytes(_pem(ca_cert))

    server_key = _key()
    server_cert = _issue("127.0.0.1", server_key, ca_cert, ca_key, server=True)
    _write_key(d / SERVER_KEY, server_key)
    (d / SERVER_CERT).write_bytes(_pem(server_cert))

    token_key = _key()
    token_cert = _issue("azurecr test bed token signer", token_key, ca_cert, ca_key, server=False)
    _write_key(d / TOKEN_KEY, token_key)
    (d / TOKEN_CERT).write_bytes(_pem(token_cert))
    # distribution trusts a `kid` only when the signing key's certificate itself is in the
    # bundle (it indexes the bundle's certificates by libtrust key id); the CA is included too
    # so x5c-style chains would also verify.
    (d / TOKEN_BUNDLE).write_bytes(_pem(token_cert) + _pem(ca_cert))

    _write_key(d / AAD_KEY, _key())


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@dataclass
class Signer:
    """Signs RS256 JWTs with a private key; header ``kid`` = libtrust id of the key."""

    key: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Signer:
        key = _load_key(Path(path))
        return cls(key, libtrust_key_id(key.public_key()))

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self.key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"}
        )

    def verify(self, token: str, *, audience: str | None = None) -> dict[str, Any]:
        """Verify signature, exp/nbf (and aud when given). Raises jwt.InvalidTokenError."""
        options = {"verify_aud": audience is not None}
        return jwt.decode(
            token,
            self.key.public_key(),
            algorithms=["RS256"],
            audience=audience,
            options=options,
            leeway=5,
        )


def token_signer(state_dir: str | os.PathLike[str]) -> Signer:
    return Signer.load(Path(state_dir) / TOKEN_KEY)


def aad_signer(state_dir: str | os.PathLike[str]) -> Signer:
    return Signer.load(Path(state_dir) / AAD_KEY)


AAD_ISSUER = "https://sts.windows.net/00000000-0000-0000-0000-000000000000/"
AAD_TENANT = "00000000-0000-0000-0000-000000000000"


def mint_aad_token(
    state_dir: str | os.PathLike[str],
    *,
    audience: str = "https://containerregistry.azure.net",
    expires_in: int = 3600,
    subject: str = "11111111-2222-3333-4444-555555555555",
) -> str:
    """A fake AAD access token the test bed's /oauth2/exchange trusts."""
    now = int(time.time())
    claims = {
        "aud": audience,
        "iss": AAD_ISSUER,
        "iat": now,
        "nbf": now - 5,
        "exp": now + expires_in,
        "oid": subject,
        "sub": subject,
        "tid": AAD_TENANT,
        "appid": "testbed-client",
        "ver": "1.0",
        "uti": uuid.uuid4().hex,
    }
    return aad_signer(state_dir).sign(claims)


def jwt_claims_unverified(token: str) -> dict[str, Any]:
    """The payload of a JWT without verification (for tests and exp inspection)."""
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))
