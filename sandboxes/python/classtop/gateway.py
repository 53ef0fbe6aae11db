"""The plugin's connection to its gateway: Register with the certificate, a fresh session token
before the old one expires, and host API calls (CallApi), each refusal raised as its exception."""

import asyncio
import json
import sys
import time
from typing import Any, Dict, List, Optional

import grpc

import classtop_plugin_pb2 as pb
import classtop_plugin_pb2_grpc as rpc
from classtop.contract import ERROR_CODE_METADATA_KEY, PROTOCOL_VERSION
from classtop.plugin_system.exceptions import PluginLoadError, api_error, code_of_status

REGISTER_TIMEOUT_S = 10.0
#: Re-register when this fraction of the session token's lifetime has passed.
TOKEN_REFRESH_AT = 0.8
MIN_REFRESH_DELAY_S = 1.0
TOKEN_KEY = "session_token"


class Gateway:
    """One channel to the gateway's unix socket and the session token it issued."""

    def __init__(self, socket_path: str, call_timeout_s: float) -> None:
        self.channel = grpc.aio.insecure_channel(f"unix:{socket_path}")
        self.stub = rpc.ClassTopPluginServiceStub(self.channel)
        self.token = ""
        self._call_timeout_s = call_timeout_s
        self._refresh: Optional["asyncio.Task[None]"] = None

    def metadata(self) -> List[tuple]:
        return [(TOKEN_KEY, self.token)]

    async def register(self, identity: Dict[str, Any]) -> float:
        """Registers; returns when (Unix seconds) the token expires. Refused: PluginLoadError."""
        request = pb.PluginRegisterRequest(
            plugin_id=identity["plugin_id"],
            plugin_name=identity["plugin_name"],
            version=identity["version"],
            permissions=identity["permissions"],
            certificate=identity["certificate"],
            # The gateway refuses an SDK whose protocol major is older than its own, saying so.
            sdk_protocol_version=PROTOCOL_VERSION,
        )
        try:
            response = await self.stub.Register(request, timeout=REGISTER_TIMEOUT_S)
        except grpc.aio.AioRpcError as err:
            raise PluginLoadError(f"Register failed: {err.code().name}: {err.details()}") from err
        if not response.success:
            raise PluginLoadError(f"Register was refused: {response.message}")
        self.token = response.session_token
        return response.token_expires_at_ms / 1000.0

    def keep_token_fresh(self, identity: Dict[str, Any], expires_at_s: float) -> None:
        self._refresh = asyncio.get_running_loop().create_task(self._refresh_loop(identity, expires_at_s))

    async def _refresh_loop(self, identity: Dict[str, Any], expires_at_s: float) -> None:
        while True:
            await asyncio.sleep(max(MIN_REFRESH_DELAY_S, (expires_at_s - time.time()) * TOKEN_REFRESH_AT))
            try:
                expires_at_s = await self.register(identity)
            except PluginLoadError as err:
                print(f"[classtop-sdk] token refresh failed: {err}", file=sys.stderr, flush=True)

    async def call(self, api_name: str, payload: Dict[str, Any]) -> Any:
        """One host API call; the decoded JSON result, or PluginApiError / PermissionDeniedError."""
        request = pb.PluginApiRequest(
            api_name=api_name, payload=json.dumps(payload).encode(), metadata={TOKEN_KEY: self.token}
        )
        try:
            response = await self.stub.CallApi(request, metadata=self.metadata(), timeout=self._call_timeout_s)
        except grpc.aio.AioRpcError as err:
            trailer = dict(err.trailing_metadata() or ()).get(ERROR_CODE_METADATA_KEY)
            code = code_of_status(err.code().value[0], trailer)
            raise api_error(code, api_name, err.details() or err.code().name) from err
        if not response.success:
            code = pb.PluginErrorCode.Name(response.error_code)
            raise api_error(code, api_name, response.error_message)
        return json.loads(response.result) if response.result else None

    async def close(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
        await self.channel.close()
