"""A stand-in gateway on a real grpc.aio server and unix socket, for the SDK's connection tests
(the real gateway, in its container setting, is test/e2e's). It answers each call with what it
received, in its own time: ``{"delay": s}`` answers after s seconds, ``hold`` never, ``denied`` is
refused as the gateway refuses (a response with PERMISSION_DENIED), ``break`` ends the stream."""

import asyncio
import json
import time

import grpc

import tests.stubs  # noqa: F401 - puts the generated stubs on the path first
import classtop_plugin_pb2 as pb
import classtop_plugin_pb2_grpc as rpc

TOKEN_LIFETIME_MS = 3_600_000


class FakeGateway(rpc.ClassTopPluginServiceServicer):
    def __init__(self, name: str, call_stream: bool = True) -> None:
        self.name = name
        self.call_stream = call_stream
        self.registers = 0
        self.streams = 0
        self.unary_calls = 0
        self.event_stream_open = asyncio.Event()
        self._events: "asyncio.Queue[pb.PluginEvent]" = asyncio.Queue()

    async def Register(self, request, context):  # noqa: N802 - the RPC's name
        self.registers += 1
        expires = int(time.time() * 1000) + TOKEN_LIFETIME_MS
        token = f"{self.name}-{self.registers}"
        return pb.PluginRegisterResponse(success=True, session_token=token, token_expires_at_ms=expires)

    async def CallApi(self, request, context):  # noqa: N802
        self.unary_calls += 1
        return await self._answer(request, dict(context.invocation_metadata()))

    async def CallStream(self, request_iterator, context):  # noqa: N802
        if not self.call_stream:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "no CallStream here")
        self.streams += 1
        metadata = dict(context.invocation_metadata())
        results: "asyncio.Queue" = asyncio.Queue()
        tasks = set()

        async def answer(call):
            if call.request.api_name == "break":
                await results.put(None)
                return
            await results.put(pb.PluginApiResult(id=call.id, response=await self._answer(call.request, metadata)))

        async def take():
            async for call in request_iterator:
                task = asyncio.get_running_loop().create_task(answer(call))
                tasks.add(task)

        reader = asyncio.get_running_loop().create_task(take())
        try:
            while True:
                result = await results.get()
                if result is None:
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "the stream was broken on request")
                yield result
        finally:
            reader.cancel()
            for task in tasks:
                task.cancel()

    async def SubscribeEvents(self, request_iterator, context):  # noqa: N802
        self.event_stream_open.set()
        while True:
            yield await self._events.get()

    def push_event(self, name: str, data) -> None:
        self._events.put_nowait(pb.PluginEvent(event_name=name, event_data=json.dumps(data).encode()))

    async def _answer(self, request, metadata):
        if request.api_name == "denied":
            message = "PERMISSION_DENIED: denied needs permission 'x'"
            return pb.PluginApiResponse(success=False, error_message=message, error_code=pb.PERMISSION_DENIED)
        if request.api_name == "hold":
            await asyncio.Event().wait()
        payload = json.loads(request.payload or b"{}")
        await asyncio.sleep(payload.get("delay", 0))
        token = metadata.get("session_token")
        echo = {"gateway": self.name, "api": request.api_name, "payload": payload, "token": token}
        return pb.PluginApiResponse(success=True, result=json.dumps(echo).encode())


async def start(gateway: FakeGateway, socket_path: str):
    server = grpc.aio.server()
    rpc.add_ClassTopPluginServiceServicer_to_server(gateway, server)
    if server.add_insecure_port(f"unix:{socket_path}") == 0:
        raise OSError(f"cannot listen on {socket_path}")
    await server.start()
    return server
