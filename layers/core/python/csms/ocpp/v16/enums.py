"""OCPP 1.6 enumerations (OCPP 1.6 §7 "Types" and the 1.6 Security Whitepaper), values as on the wire.

Class names are the specification's type names; the Security Whitepaper's ``XxxEnumType`` drop the
suffix. Where two schemas disagree on a list the schema wins and the enum is split
(``UnitOfMeasure`` vs ``StopTransactionUnitOfMeasure``); tests check every list against the schemas.
"""

from __future__ import annotations

from csms.ocpp.v16.types import OcppEnum


class AuthorizationStatus(OcppEnum):
    """idTagInfo.status: may this idTag charge."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


class AvailabilityStatus(OcppEnum):
    """ChangeAvailability.conf."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    SCHEDULED = "Scheduled"


class AvailabilityType(OcppEnum):
    """ChangeAvailability.req."""

    INOPERATIVE = "Inoperative"
    OPERATIVE = "Operative"


class CancelReservationStatus(OcppEnum):
    """CancelReservation.conf."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ChargePointErrorCode(OcppEnum):
    """StatusNotification.req errorCode."""

    CONNECTOR_LOCK_FAILURE = "ConnectorLockFailure"
    EV_COMMUNICATION_ERROR = "EVCommunicationError"
    GROUND_FAILURE = "GroundFailure"
    HIGH_TEMPERATURE = "HighTemperature"
    INTERNAL_ERROR = "InternalError"
    LOCAL_LIST_CONFLICT = "LocalListConflict"
    NO_ERROR = "NoError"
    OTHER_ERROR = "OtherError"
    OVER_CURRENT_FAILURE = "OverCurrentFailure"
    POWER_METER_FAILURE = "PowerMeterFailure"
    POWER_SWITCH_FAILURE = "PowerSwitchFailure"
    READER_FAILURE = "ReaderFailure"
    RESET_FAILURE = "ResetFailure"
    UNDER_VOLTAGE = "UnderVoltage"
    OVER_VOLTAGE = "OverVoltage"
    WEAK_SIGNAL = "WeakSignal"


class ChargePointStatus(OcppEnum):
    """StatusNotification.req status: the connector (or charge point, connector 0) status."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EVSE = "SuspendedEVSE"
    SUSPENDED_EV = "SuspendedEV"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class ChargingProfileKindType(OcppEnum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class ChargingProfilePurposeType(OcppEnum):
    CHARGE_POINT_MAX_PROFILE = "ChargePointMaxProfile"
    TX_DEFAULT_PROFILE = "TxDefaultProfile"
    TX_PROFILE = "TxProfile"


class ChargingProfileStatus(OcppEnum):
    """SetChargingProfile.conf."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    NOT_SUPPORTED = "NotSupported"


class ChargingRateUnitType(OcppEnum):
    AMPERE = "A"
    WATT = "W"


class ClearCacheStatus(OcppEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ClearChargingProfileStatus(OcppEnum):
    ACCEPTED = "Accepted"
    UNKNOWN = "Unknown"


class ConfigurationStatus(OcppEnum):
    """ChangeConfiguration.conf."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    REBOOT_REQUIRED = "RebootRequired"
    NOT_SUPPORTED = "NotSupported"


class DataTransferStatus(OcppEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_MESSAGE_ID = "UnknownMessageId"
    UNKNOWN_VENDOR_ID = "UnknownVendorId"


class DiagnosticsStatus(OcppEnum):
    IDLE = "Idle"
    UPLOADED = "Uploaded"
    UPLOAD_FAILED = "UploadFailed"
    UPLOADING = "Uploading"


class FirmwareStatus(OcppEnum):
    DOWNLOADED = "Downloaded"
    DOWNLOAD_FAILED = "DownloadFailed"
    DOWNLOADING = "Downloading"
    IDLE = "Idle"
    INSTALLATION_FAILED = "InstallationFailed"
    INSTALLING = "Installing"
    INSTALLED = "Installed"


class GetCompositeScheduleStatus(OcppEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class Location(OcppEnum):
    """Where a sampled value is measured."""

    CABLE = "Cable"
    EV = "EV"
    INLET = "Inlet"
    OUTLET = "Outlet"
    BODY = "Body"


class Measurand(OcppEnum):
    ENERGY_ACTIVE_EXPORT_REGISTER = "Energy.Active.Export.Register"
    ENERGY_ACTIVE_IMPORT_REGISTER = "Energy.Active.Import.Register"
    ENERGY_REACTIVE_EXPORT_REGISTER = "Energy.Reactive.Export.Register"
    ENERGY_REACTIVE_IMPORT_REGISTER = "Energy.Reactive.Import.Register"
    ENERGY_ACTIVE_EXPORT_INTERVAL = "Energy.Active.Export.Interval"
    ENERGY_ACTIVE_IMPORT_INTERVAL = "Energy.Active.Import.Interval"
    ENERGY_REACTIVE_EXPORT_INTERVAL = "Energy.Reactive.Export.Interval"
    ENERGY_REACTIVE_IMPORT_INTERVAL = "Energy.Reactive.Import.Interval"
    POWER_ACTIVE_EXPORT = "Power.Active.Export"
    POWER_ACTIVE_IMPORT = "Power.Active.Import"
    POWER_OFFERED = "Power.Offered"
    POWER_REACTIVE_EXPORT = "Power.Reactive.Export"
    POWER_REACTIVE_IMPORT = "Power.Reactive.Import"
    POWER_FACTOR = "Power.Factor"
    CURRENT_IMPORT = "Current.Import"
    CURRENT_EXPORT = "Current.Export"
    CURRENT_OFFERED = "Current.Offered"
    VOLTAGE = "Voltage"
    FREQUENCY = "Frequency"
    TEMPERATURE = "Temperature"
    SOC = "SoC"
    RPM = "RPM"


class MessageTrigger(OcppEnum):
    """TriggerMessage.req."""

    BOOT_NOTIFICATION = "BootNotification"
    DIAGNOSTICS_STATUS_NOTIFICATION = "DiagnosticsStatusNotification"
    FIRMWARE_STATUS_NOTIFICATION = "FirmwareStatusNotification"
    HEARTBEAT = "Heartbeat"
    METER_VALUES = "MeterValues"
    STATUS_NOTIFICATION = "StatusNotification"


class Phase(OcppEnum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    N = "N"
    L1_N = "L1-N"
    L2_N = "L2-N"
    L3_N = "L3-N"
    L1_L2 = "L1-L2"
    L2_L3 = "L2-L3"
    L3_L1 = "L3-L1"


class ReadingContext(OcppEnum):
    INTERRUPTION_BEGIN = "Interruption.Begin"
    INTERRUPTION_END = "Interruption.End"
    SAMPLE_CLOCK = "Sample.Clock"
    SAMPLE_PERIODIC = "Sample.Periodic"
    TRANSACTION_BEGIN = "Transaction.Begin"
    TRANSACTION_END = "Transaction.End"
    TRIGGER = "Trigger"
    OTHER = "Other"


class Reason(OcppEnum):
    """StopTransaction.req reason: why the transaction stopped."""

    EMERGENCY_STOP = "EmergencyStop"
    EV_DISCONNECTED = "EVDisconnected"
    HARD_RESET = "HardReset"
    LOCAL = "Local"
    OTHER = "Other"
    POWER_LOSS = "PowerLoss"
    REBOOT = "Reboot"
    REMOTE = "Remote"
    SOFT_RESET = "SoftReset"
    UNLOCK_COMMAND = "UnlockCommand"
    DE_AUTHORIZED = "DeAuthorized"


class RecurrencyKindType(OcppEnum):
    DAILY = "Daily"
    WEEKLY = "Weekly"


class RegistrationStatus(OcppEnum):
    """BootNotification.conf."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class RemoteStartStopStatus(OcppEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ReservationStatus(OcppEnum):
    """ReserveNow.conf."""

    ACCEPTED = "Accepted"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"


class ResetStatus(OcppEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ResetType(OcppEnum):
    HARD = "Hard"
    SOFT = "Soft"


class TriggerMessageStatus(OcppEnum):
    """TriggerMessage.conf; also the Security Whitepaper's TriggerMessageStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    NOT_IMPLEMENTED = "NotImplemented"


class UnitOfMeasure(OcppEnum):
    """SampledValue.unit as in the MeterValues.req schema (the only one with "Hertz")."""

    WH = "Wh"
    KWH = "kWh"
    VARH = "varh"
    KVARH = "kvarh"
    W = "W"
    KW = "kW"
    VA = "VA"
    KVA = "kVA"
    VAR = "var"
    KVAR = "kvar"
    A = "A"
    V = "V"
    K = "K"
    CELCIUS = "Celcius"  # misspelt in OCPP 1.6 itself; both spellings are valid on the wire
    CELSIUS = "Celsius"
    FAHRENHEIT = "Fahrenheit"
    PERCENT = "Percent"
    HERTZ = "Hertz"


# StopTransaction.req's schema lists every unit of MeterValues.req but "Hertz".
class StopTransactionUnitOfMeasure(OcppEnum):
    """SampledValue.unit as in the StopTransaction.req schema, which lacks "Hertz" (UnitOfMeasure otherwise)."""

    WH = "Wh"
    KWH = "kWh"
    VARH = "varh"
    KVARH = "kvarh"
    W = "W"
    KW = "kW"
    VA = "VA"
    KVA = "kVA"
    VAR = "var"
    KVAR = "kvar"
    A = "A"
    V = "V"
    K = "K"
    CELCIUS = "Celcius"  # misspelt in OCPP 1.6 itself; both spellings are valid on the wire
    CELSIUS = "Celsius"
    FAHRENHEIT = "Fahrenheit"
    PERCENT = "Percent"


class UnlockStatus(OcppEnum):
    UNLOCKED = "Unlocked"
    UNLOCK_FAILED = "UnlockFailed"
    NOT_SUPPORTED = "NotSupported"


class UpdateStatus(OcppEnum):
    """SendLocalList.conf."""

    ACCEPTED = "Accepted"
    FAILED = "Failed"
    NOT_SUPPORTED = "NotSupported"
    VERSION_MISMATCH = "VersionMismatch"


class UpdateType(OcppEnum):
    DIFFERENTIAL = "Differential"
    FULL = "Full"


class ValueFormat(OcppEnum):
    RAW = "Raw"
    SIGNED_DATA = "SignedData"


class CertificateSignedStatus(OcppEnum):
    """Security Whitepaper CertificateSignedStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class CertificateUse(OcppEnum):
    """Security Whitepaper CertificateUseEnumType."""

    CENTRAL_SYSTEM_ROOT_CERTIFICATE = "CentralSystemRootCertificate"
    MANUFACTURER_ROOT_CERTIFICATE = "ManufacturerRootCertificate"


class DeleteCertificateStatus(OcppEnum):
    """Security Whitepaper DeleteCertificateStatusEnumType."""

    ACCEPTED = "Accepted"
    FAILED = "Failed"
    NOT_FOUND = "NotFound"


class ExtendedMessageTrigger(OcppEnum):
    """Security Whitepaper MessageTriggerEnumType (ExtendedTriggerMessage.req)."""

    BOOT_NOTIFICATION = "BootNotification"
    LOG_STATUS_NOTIFICATION = "LogStatusNotification"
    FIRMWARE_STATUS_NOTIFICATION = "FirmwareStatusNotification"
    HEARTBEAT = "Heartbeat"
    METER_VALUES = "MeterValues"
    SIGN_CHARGE_POINT_CERTIFICATE = "SignChargePointCertificate"
    STATUS_NOTIFICATION = "StatusNotification"


class GenericStatus(OcppEnum):
    """Security Whitepaper GenericStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class GetInstalledCertificateStatus(OcppEnum):
    """Security Whitepaper GetInstalledCertificateStatusEnumType."""

    ACCEPTED = "Accepted"
    NOT_FOUND = "NotFound"


class HashAlgorithm(OcppEnum):
    """Security Whitepaper HashAlgorithmEnumType."""

    SHA256 = "SHA256"
    SHA384 = "SHA384"
    SHA512 = "SHA512"


class InstallCertificateStatus(OcppEnum):
    """Security Whitepaper InstallCertificateStatusEnumType."""

    ACCEPTED = "Accepted"
    FAILED = "Failed"
    REJECTED = "Rejected"


class Log(OcppEnum):
    """Security Whitepaper LogEnumType."""

    DIAGNOSTICS_LOG = "DiagnosticsLog"
    SECURITY_LOG = "SecurityLog"


class LogStatus(OcppEnum):
    """Security Whitepaper LogStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    ACCEPTED_CANCELED = "AcceptedCanceled"


class SignedFirmwareStatus(OcppEnum):
    """Security Whitepaper FirmwareStatusEnumType (SignedFirmwareStatusNotification.req)."""

    DOWNLOADED = "Downloaded"
    DOWNLOAD_FAILED = "DownloadFailed"
    DOWNLOADING = "Downloading"
    DOWNLOAD_SCHEDULED = "DownloadScheduled"
    DOWNLOAD_PAUSED = "DownloadPaused"
    IDLE = "Idle"
    INSTALLATION_FAILED = "InstallationFailed"
    INSTALLING = "Installing"
    INSTALLED = "Installed"
    INSTALL_REBOOTING = "InstallRebooting"
    INSTALL_SCHEDULED = "InstallScheduled"
    INSTALL_VERIFICATION_FAILED = "InstallVerificationFailed"
    INVALID_SIGNATURE = "InvalidSignature"
    SIGNATURE_VERIFIED = "SignatureVerified"


class UpdateFirmwareStatus(OcppEnum):
    """Security Whitepaper UpdateFirmwareStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    ACCEPTED_CANCELED = "AcceptedCanceled"
    INVALID_CERTIFICATE = "InvalidCertificate"
    REVOKED_CERTIFICATE = "RevokedCertificate"


class UploadLogStatus(OcppEnum):
    """Security Whitepaper UploadLogStatusEnumType."""

    BAD_MESSAGE = "BadMessage"
    IDLE = "Idle"
    NOT_SUPPORTED_OPERATION = "NotSupportedOperation"
    PERMISSION_DENIED = "PermissionDenied"
    UPLOADED = "Uploaded"
    UPLOAD_FAILURE = "UploadFailure"
    UPLOADING = "Uploading"
