"""What the routes take besides their bodies: the services (overridable in tests through the resolver's
`dependency_overrides[get_services]`) and the path and query parameters shared by several routes."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from csms.domain import station_identity
from csms.runtime.wiring import Services, get_services

ServicesDependency = Annotated[Services, Depends(get_services)]

ChargePointId = Annotated[
    str,
    Path(
        alias="chargePointId",
        pattern=station_identity.PATTERN,
        description=(
            "The station's identity: the last segment of its OCPP URL. Printable ASCII without / ? # % \\ and "
            f"spaces, at most {station_identity.MAX_LENGTH} characters (percent-encode it in the URL)"
        ),
    ),
]
ConnectorId = Annotated[
    int, Path(alias="connectorId", ge=1, description="The connector (1, 2, ...); 0 is the station as a whole, not a connector")
]
Wait = Annotated[
    bool,
    Query(
        description="Wait for the station's answer (200/502/504); false: answer 202 at once with the commandId",
    ),
]
