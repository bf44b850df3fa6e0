"""One example request payload per central-system action, shown in the OpenAPI (Swagger UI lists them by
action) and checked by the tests against the 1.6 schemas, so an example can never drift from them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

_PROFILE = {
    "chargingProfileId": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]},
}
_PEM = "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"

COMMAND_EXAMPLES: Mapping[str, dict[str, Any]] = MappingProxyType(
    {
        # Core
        "ChangeAvailability": {"connectorId": 1, "type": "Inoperative"},
        "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "300"},
        "ClearCache": {},
        "DataTransfer": {"vendorId": "com.example", "messageId": "Ping", "data": "{}"},
        "GetConfiguration": {"key": ["HeartbeatInterval", "MeterValueSampleInterval"]},
        "RemoteStartTransaction": {"connectorId": 1, "idTag": "RFID0001"},
        "RemoteStopTransaction": {"transactionId": 1},
        "Reset": {"type": "Soft"},
        "UnlockConnector": {"connectorId": 1},
        # Firmware Management
        "GetDiagnostics": {"location": "ftp://diagnostics.example.com/upload/"},
        "UpdateFirmware": {"location": "https://firmware.example.com/fw-2.1.bin", "retrieveDate": "2026-12-01T02:00:00Z"},
        # Local Auth List Management
        "GetLocalListVersion": {},
        "SendLocalList": {
            "listVersion": 2,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "RFID0001", "idTagInfo": {"status": "Accepted"}}],
        },
        # Reservation
        "ReserveNow": {"connectorId": 1, "expiryDate": "2026-12-01T18:00:00Z", "idTag": "RFID0001", "reservationId": 7},
        "CancelReservation": {"reservationId": 7},
        # Smart Charging
        "SetChargingProfile": {"connectorId": 1, "csChargingProfiles": _PROFILE},
        "ClearChargingProfile": {"id": 1},
        "GetCompositeSchedule": {"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"},
        # Remote Trigger
        "TriggerMessage": {"requestedMessage": "StatusNotification", "connectorId": 1},
        # Security Whitepaper
        "ExtendedTriggerMessage": {"requestedMessage": "SignChargePointCertificate"},
        "GetLog": {"log": {"remoteLocation": "https://logs.example.com/upload/"}, "logType": "SecurityLog", "requestId": 1},
        "SignedUpdateFirmware": {
            "requestId": 1,
            "firmware": {
                "location": "https://firmware.example.com/fw-2.1.bin",
                "retrieveDateTime": "2026-12-01T02:00:00Z",
                "signingCertificate": _PEM,
                "signature": "MEUCIQDx...",
            },
        },
        "InstallCertificate": {"certificateType": "CentralSystemRootCertificate", "certificate": _PEM},
        "DeleteCertificate": {
            "certificateHashData": {
                "hashAlgorithm": "SHA256",
                "issuerNameHash": "a1b2c3",
                "issuerKeyHash": "d4e5f6",
                "serialNumber": "0a1b",
            }
        },
        "GetInstalledCertificateIds": {"certificateType": "CentralSystemRootCertificate"},
        "CertificateSigned": {"certificateChain": _PEM},
    }
)
