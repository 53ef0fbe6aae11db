"""What the plugin serves to the host on its own socket: Lifecycle (ENABLE, DISABLE, RELOAD,
SHUTDOWN) and CallApi for its exported functions. A failure is a response with success false,
its code in error_code and at the start of its message, as the gateway answers plugins."""

import asyncio
import inspect
import json
from typing import Any, Callable

import grpc

import classtop_plugin_pb2 as pb
import classtop_plugin_pb2_grpc as rpc
from classtop.contract import refusal_text
from classtop.plugin_system.base import Plugin
from classtop.plugin_system.exceptions import PluginApiError

Action = pb.PluginLifecycleRequest.Action


class PluginServicer(rpc.ClassTopPluginServiceServicer):
    """Register, SubscribeEvents and CallStream answer UNIMPLEMENTED (the base class's)."""

    def __init__(self, plugin: Plugin, on_shutdown: Callable[[], None]) -> None:
        self._plugin = plugin
        self._on_shutdown = on_shutdown

    async def Lifecycle(self, request: Any, context: Any) -> Any:  # noqa: N802 - the RPC's name
        action = Action.Name(request.action)
        try:
            saved = await self._run(request.action, request.state_data)
        except Exception as err:  # noqa: BLE001 - the plugin's failure is the host's answer
            code = err.code if isinstance(err, PluginApiError) else "INTERNAL_ERROR"
            message = refusal_text(code, f"{action} failed in the plugin: {_describe(err)}")
            return pb.PluginLifecycleResponse(success=False, message=message, error_code=pb.PluginErrorCode.Value(code))
        if request.action == Action.Value("SHUTDOWN"):
            # After this answer has left: the runner stops serving and exits.
            asyncio.get_running_loop().call_soon(self._on_shutdown)
        return pb.PluginLifecycleResponse(success=True, message=f"{action} done", saved_state=saved)

    async def _run(self, action: int, state_data: bytes) -> bytes:
        plugin = self._plugin
        if action == Action.Value("ENABLE"):
            if state_data:
                await _settle(plugin.on_restore(json.loads(state_data)))
            await _settle(plugin.on_enable())
        elif action == Action.Value("DISABLE"):
            await _settle(plugin.on_disable())
        elif action == Action.Value("RELOAD"):
            return json.dumps(await _settle(plugin.on_save())).encode()
        await plugin.plugin_api.flush_logs()
        return b""

    async def CallApi(self, request: Any, context: Any) -> Any:  # noqa: N802 - the RPC's name
        name = request.api_name
        fn = self._plugin.exported_function(name)
        if fn is None:
            return _failure("NOT_FOUND", f"the plugin exports no function '{name}'")
        try:
            data = json.loads(request.payload) if request.payload else None
        except ValueError:
            return _failure("INVALID_REQUEST", f"{name}: payload is not valid JSON")
        try:
            result = await _settle(fn(data))
        except Exception as err:  # noqa: BLE001 - the plugin's failure is the host's answer
            code = err.code if isinstance(err, PluginApiError) else "INTERNAL_ERROR"
            return _failure(code, f"{name} failed in the plugin: {_describe(err)}")
        # Bytes go as they are (e.g. a frame); anything else as JSON.
        body = bytes(result) if isinstance(result, (bytes, bytearray)) else json.dumps(result).encode()
        return pb.PluginApiResponse(success=True, result=body)


async def serve(plugin: Plugin, socket_path: str, on_shutdown: Callable[[], None]) -> Any:
    server = grpc.aio.server()
    rpc.add_ClassTopPluginServiceServicer_to_server(PluginServicer(plugin, on_shutdown), server)
    if server.add_insecure_port(f"unix:{socket_path}") == 0:
        raise OSError(f"cannot listen on {socket_path}")
    await server.start()
    return server


async def _settle(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _failure(code: str, message: str) -> Any:
    return pb.PluginApiResponse(
        success=False, error_message=refusal_text(code, message), error_code=pb.PluginErrorCode.Value(code)
    )


def _describe(err: BaseException) -> str:
    return str(err) or type(err).__name__
