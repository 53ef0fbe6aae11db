"""The plugin's connection to its gateway: Register with the certificate, a fresh session token
before the old one expires, host API calls on one CallStream (classtop.call_stream), each refusal
raised as its exception, and a new connection when the gateway went away and came back.

Reconnecting uses a fresh channel for every attempt: a grpc.aio channel whose server went away
retries on its own growing backoff (up to minutes), so a reused channel can sit half-open and stall
long after the gateway is back."""

import asyncio
import json
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Set

import grpc

import classtop_plugin_pb2 as pb
import classtop_plugin_pb2_grpc as rpc
from classtop.call_stream import CallFailure, CallStream
from classtop.contract import PROTOCOL_VERSION
from classtop.plugin_system.exceptions import PluginApiError, PluginLoadError, api_error, code_of_status

REGISTER_TIMEOUT_S = 10.0
#: Re-register when this fraction of the session token's lifetime has passed.
TOKEN_REFRESH_AT = 0.8
MIN_REFRESH_DELAY_S = 1.0
TOKEN_KEY = "session_token"
#: Reconnecting: the first retry after this long, doubling up to the cap, given up after the last.
RECONNECT_FIRST_DELAY_S = 0.05
RECONNECT_MAX_DELAY_S = 2.0
RECONNECT_GIVE_UP_S = 60.0
#: A connection that stayed up this long starts its next reconnection at the first delay again.
STABLE_AFTER_S = 10.0


def _log(message: str) -> None:
    print(f"[classtop-sdk] {message}", file=sys.stderr, flush=True)


class Gateway:
    """The channel to the gateway's unix socket, and the session token it issued."""

    def __init__(self, socket_path: str, call_timeout_s: float) -> None:
        self._target = f"unix:{socket_path}"
        self.channel = grpc.aio.insecure_channel(self._target)
        self.stub = rpc.ClassTopPluginServiceStub(self.channel)
        #: Grows with each new channel; a stream reports its loss with the generation it began in.
        self.generation = 0
        self.token = ""
        #: Set when reconnecting was given up (``on_lost`` was called).
        self.lost = False
        #: Told once reconnecting has been given up: the runner exits and the host restarts the plugin.
        self.on_lost: Optional[Callable[[], None]] = None
        self.calls = CallStream(self._open_call_stream, self._call_api, self.connection_lost)
        self._call_timeout_s = call_timeout_s
        self._identity: Optional[Dict[str, Any]] = None
        self._expires_at_s = 0.0
        self._refresh: Optional["asyncio.Task[None]"] = None
        self._reconnecting: Optional["asyncio.Task[None]"] = None
        self._reconnected: List[Callable[[], None]] = []
        #: How long a reconnection tries before it is given up.
        self.give_up_s = RECONNECT_GIVE_UP_S
        self._backoff_s = RECONNECT_FIRST_DELAY_S
        self._connected_at = time.monotonic()
        self._retired: Set["asyncio.Task[None]"] = set()
        self._closed = False

    def metadata(self) -> List[tuple]:
        return [(TOKEN_KEY, self.token)]

    async def register(self, identity: Optional[Dict[str, Any]] = None) -> float:
        """Registers; returns when (Unix seconds) the token expires. Refused: PluginLoadError."""
        if identity is not None:
            self._identity = identity
        try:
            return self._accept(await self._register_rpc(self.stub))
        except grpc.aio.AioRpcError as err:
            raise PluginLoadError(f"Register failed: {err.code().name}: {err.details()}") from err

    async def _register_rpc(self, stub: Any) -> Any:
        identity = self._identity or {}
        request = pb.PluginRegisterRequest(
            plugin_id=identity.get("plugin_id", ""),
            plugin_name=identity.get("plugin_name", ""),
            version=identity.get("version", ""),
            permissions=identity.get("permissions", []),
            certificate=identity.get("certificate", b""),
            # The gateway refuses an SDK whose protocol major is older than its own, saying so.
            sdk_protocol_version=PROTOCOL_VERSION,
        )
        return await stub.Register(request, timeout=REGISTER_TIMEOUT_S)

    def _accept(self, response: Any) -> float:
        if not response.success:
            raise PluginLoadError(f"Register was refused: {response.message}")
        self.token = response.session_token
        self._expires_at_s = response.token_expires_at_ms / 1000.0
        return self._expires_at_s

    def keep_token_fresh(self, identity: Dict[str, Any], expires_at_s: float) -> None:
        self._identity = identity
        self._expires_at_s = expires_at_s
        self._refresh = asyncio.get_running_loop().create_task(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        while not self._closed:
            await asyncio.sleep(max(MIN_REFRESH_DELAY_S, (self._expires_at_s - time.time()) * TOKEN_REFRESH_AT))
            generation = self.generation
            try:
                self._accept(await self._register_rpc(self.stub))
            except grpc.aio.AioRpcError as err:
                _log(f"token refresh failed: {err.code().name}: {err.details()}")
                if err.code() == grpc.StatusCode.UNAVAILABLE:
                    self.connection_lost(generation)
            except PluginLoadError as err:
                _log(f"token refresh failed: {err}")

    async def call(self, api_name: str, payload: Dict[str, Any]) -> Any:
        """One host API call; the decoded JSON result, or PluginApiError / PermissionDeniedError."""
        deadline_s = time.time() + self._call_timeout_s
        await self._back(api_name, deadline_s)
        request = pb.PluginApiRequest(
            api_name=api_name, payload=json.dumps(payload).encode(), metadata={TOKEN_KEY: self.token}
        )
        try:
            response = await self.calls.call(request, deadline_s)
        except CallFailure as failure:
            code = code_of_status(failure.status.value[0], failure.trailer)
            raise api_error(code, api_name, failure.details) from None
        if not response.success:
            code = pb.PluginErrorCode.Name(response.error_code)
            raise api_error(code, api_name, response.error_message)
        return json.loads(response.result) if response.result else None

    async def _call_api(self, request: Any, deadline_s: float) -> Any:
        """One unary CallApi, for a gateway without CallStream."""
        generation = self.generation
        try:
            timeout = max(0.0, deadline_s - time.time())
            return await self.stub.CallApi(request, metadata=self.metadata(), timeout=timeout)
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.UNAVAILABLE:
                self.connection_lost(generation)
            raise CallFailure.of(err) from None

    def _open_call_stream(self) -> tuple:
        return self.stub.CallStream(metadata=self.metadata()), self.generation

    def open_event_stream(self) -> tuple:
        """A SubscribeEvents stream on the current channel, and its generation."""
        return self.stub.SubscribeEvents(metadata=self.metadata()), self.generation

    def on_reconnected(self, callback: Callable[[], None]) -> None:
        """Calls ``callback`` each time a new connection has registered (e.g. to reopen a stream)."""
        self._reconnected.append(callback)

    def connection_lost(self, generation: int) -> None:
        """A stream or call of ``generation`` found the gateway gone: reconnect, once."""
        if self._closed or generation != self.generation or self._identity is None:
            return
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _back(self, api_name: str, deadline_s: float) -> None:
        """Waits, within the call's deadline, for a reconnection under way."""
        task = self._reconnecting
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), max(0.0, deadline_s - time.time()))
        except asyncio.TimeoutError:
            raise PluginApiError("TIMEOUT", api_name, "the gateway did not come back in time") from None

    async def _reconnect(self) -> None:
        _log("the gateway connection was lost; reconnecting on a fresh channel")
        if time.monotonic() - self._connected_at > STABLE_AFTER_S:
            self._backoff_s = RECONNECT_FIRST_DELAY_S
        give_up_at = time.monotonic() + self.give_up_s
        last = "no attempt"
        while not self._closed and time.monotonic() < give_up_at:
            channel = grpc.aio.insecure_channel(self._target)
            stub = rpc.ClassTopPluginServiceStub(channel)
            try:
                self._accept(await self._register_rpc(stub))
            except (grpc.aio.AioRpcError, PluginLoadError) as err:
                last = f"{err.code().name}: {err.details()}" if isinstance(err, grpc.aio.AioRpcError) else str(err)
                await channel.close()
                await asyncio.sleep(self._backoff_s)
                self._backoff_s = min(self._backoff_s * 2, RECONNECT_MAX_DELAY_S)
                continue
            self._replace(channel, stub)
            _log(f"reconnected to the gateway and registered again (connection {self.generation})")
            return
        if not self._closed:
            _log(f"gave up reconnecting to the gateway after {self.give_up_s:g} s; last: {last}")
            self.lost = True
            if self.on_lost is not None:
                self.on_lost()

    def _replace(self, channel: Any, stub: Any) -> None:
        old = self.channel
        self.channel, self.stub = channel, stub
        self.generation += 1
        self._connected_at = time.monotonic()
        self.calls.reset("the gateway connection was replaced")
        closing = asyncio.get_running_loop().create_task(old.close())
        self._retired.add(closing)
        closing.add_done_callback(self._retired.discard)
        for callback in self._reconnected:
            callback()

    async def close(self) -> None:
        self._closed = True
        self.calls.close()
        for task in (self._refresh, self._reconnecting):
            if task is not None:
                task.cancel()
        await self.channel.close()
