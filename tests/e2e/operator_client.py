"""A minimal HTTP client for the operator API, usable from async scenarios (runs on a thread)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any


class OperatorApi:
    def __init__(self, base_url: str):
        self.base_url = base_url

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await asyncio.to_thread(self._request, method, path, body)

    def _request(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    async def download(self, path: str) -> tuple[int, str, bytes]:
        """GET a body that is not JSON (an image): status, Content-Type and the bytes as received."""
        return await asyncio.to_thread(self._download, path)

    def _download(self, path: str) -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=60) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read()

    async def command(self, charge_point_id: str, action: str, payload: dict[str, Any], query: str = "") -> tuple[int, Any]:
        return await self.request("POST", f"/charge-points/{charge_point_id}/commands/{action}{query}", payload)
