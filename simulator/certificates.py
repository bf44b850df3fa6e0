"""Certificates of the Security Whitepaper (1.6 edition 2, §4 and §6): the root certificates the central system
installs, and the station's own certificate it signs.

The simulator does not parse X.509: a certificate is accepted when it looks like PEM, and its
CertificateHashData is derived from the PEM text (stable, unique, schema-valid), not from its issuer and key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ocpp.v16.enums import CertificateSignedStatus, CertificateStatus, DeleteCertificateStatus, HashAlgorithm

BEGIN = "-----BEGIN CERTIFICATE-----"
END = "-----END CERTIFICATE-----"


def looks_like_pem(text: str) -> bool:
    return BEGIN in text and END in text


def hash_data(pem: str) -> dict[str, str]:
    digest = hashlib.sha256(pem.strip().encode()).hexdigest()
    return {
        "hash_algorithm": HashAlgorithm.sha256,
        "issuer_name_hash": hashlib.sha256(f"issuer-name:{digest}".encode()).hexdigest(),
        "issuer_key_hash": hashlib.sha256(f"issuer-key:{digest}".encode()).hexdigest(),
        "serial_number": digest[:40],
    }


@dataclass
class InstalledCertificate:
    use: str  # CertificateUse: CentralSystemRootCertificate | ManufacturerRootCertificate
    pem: str
    hash_data: dict[str, str]


class CertificateStore:
    def __init__(self) -> None:
        self.installed: list[InstalledCertificate] = []
        self.charge_point_certificate: str | None = None

    def install(self, use: str, pem: str, *, max_length: int) -> CertificateStatus:
        if not looks_like_pem(pem):
            return CertificateStatus.rejected
        data = hash_data(pem)
        if any(c.use == use and c.hash_data == data for c in self.installed):
            return CertificateStatus.accepted  # installing the same certificate twice changes nothing
        if len(self.installed) >= max_length:
            return CertificateStatus.failed
        self.installed.append(InstalledCertificate(use, pem, data))
        return CertificateStatus.accepted

    def delete(self, requested: Mapping[str, Any]) -> DeleteCertificateStatus:
        fields = ("hash_algorithm", "issuer_name_hash", "issuer_key_hash", "serial_number")
        wanted = tuple(str(requested.get(f, "")).lower() for f in fields)
        kept = [c for c in self.installed if tuple(c.hash_data[f].lower() for f in fields) != wanted]
        if len(kept) == len(self.installed):
            return DeleteCertificateStatus.not_found
        self.installed = kept
        return DeleteCertificateStatus.accepted

    def ids(self, use: str) -> list[dict[str, str]]:
        return [dict(c.hash_data) for c in self.installed if c.use == use]

    def sign(self, chain: str, *, max_chain_size: int) -> CertificateSignedStatus:
        """CertificateSigned: the station keeps a chain that looks like PEM and fits its limit."""
        if not looks_like_pem(chain) or len(chain) > max_chain_size:
            return CertificateSignedStatus.rejected
        self.charge_point_certificate = chain
        return CertificateSignedStatus.accepted
