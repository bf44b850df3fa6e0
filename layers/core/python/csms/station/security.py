"""Security Whitepaper messages a station sends: security events and certificate signing requests."""

from __future__ import annotations

from csms.ocpp.router import ActionRouter
from csms.ocpp.v16.actions import Action, Initiator
from csms.ocpp.v16.enums import GenericStatus
from csms.ocpp.v16.station import call, call_result
from csms.ocpp.v16.validation import dump
from csms.runtime.observability import logger
from csms.station.context import StationContext

router = ActionRouter(initiator=Initiator.STATION)


@router.action(Action.SECURITY_EVENT_NOTIFICATION)
def security_event(
    request: call.SecurityEventNotification, ctx: StationContext
) -> call_result.SecurityEventNotification:
    event = dump(request)
    ctx.services.station_records.put_security_event(ctx.charge_point_id, event)
    logger.warning("Security event", extra={"charge_point_id": ctx.charge_point_id, "security_event": event})
    return call_result.SecurityEventNotification()


@router.action(Action.SIGN_CERTIFICATE)
def sign_certificate(request: call.SignCertificate, ctx: StationContext) -> call_result.SignCertificate:
    """Whitepaper §3.2: the CSR is accepted for signing; the signed chain goes back later in CertificateSigned."""
    ctx.services.station_records.put_certificate_signing_request(
        ctx.charge_point_id, request.csr, received_at=ctx.received_at
    )
    return call_result.SignCertificate(status=GenericStatus.ACCEPTED)
