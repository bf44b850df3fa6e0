"""Sending frames to stations through the API Gateway @connections API (the local gateway serves the same API)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3


class StationConnections:
    def __init__(self, session: boto3.session.Session, endpoint_url: str | None):
        self._session = session
        self._endpoint_url = endpoint_url

    @cached_property
    def _client(self) -> Any:
        if not self._endpoint_url:
            raise RuntimeError("CONNECTIONS_ENDPOINT_URL is not set: this function cannot reach stations")
        return self._session.client("apigatewaymanagementapi", endpoint_url=self._endpoint_url)

    def send(self, connection_id: str, frame: str) -> bool:
        """Send one frame; False when the connection is gone (410)."""
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=frame.encode())
        except self._client.exceptions.GoneException:
            return False
        return True

    def close(self, connection_id: str) -> bool:
        """Close a connection; False when it was already gone."""
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except self._client.exceptions.GoneException:
            return False
        return True
