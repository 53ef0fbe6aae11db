"""The plugin's SubscribeEvents stream: opened with the first listener, closed with the last;
each event is acknowledged after its listeners ran."""

import asyncio
import inspect
import json
import sys
from typing import Any, Callable, Dict, List, Optional

import grpc

import classtop_plugin_pb2 as pb
from classtop.gateway import Gateway

#: ``"*"`` listens to every event.
ANY_EVENT = "*"


class EventSubscription:
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._listeners: Dict[str, List[Callable[[Any], Any]]] = {}
        self._task: Optional["asyncio.Task[None]"] = None

    def on(self, name: str, callback: Callable[[Any], Any]) -> None:
        self._listeners.setdefault(name, []).append(callback)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def off(self, name: str, callback: Callable[[Any], Any]) -> None:
        listeners = self._listeners.get(name, [])
        if callback in listeners:
            listeners.remove(callback)
        if not listeners:
            self._listeners.pop(name, None)
        if not self._listeners:
            self.close()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        stream = self._gateway.stub.SubscribeEvents(metadata=self._gateway.metadata())
        try:
            while True:
                event = await stream.read()
                if event is grpc.aio.EOF:
                    return
                await self._dispatch(event)
                await stream.write(pb.PluginEventAck(received=True))
        except grpc.aio.AioRpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                print(f"[classtop-sdk] event stream failed: {err.code().name}: {err.details()}", file=sys.stderr)
        finally:
            stream.cancel()

    async def _dispatch(self, event: Any) -> None:
        data = _decode(event.event_data)
        targets = [*self._listeners.get(event.event_name, []), *self._listeners.get(ANY_EVENT, [])]
        for callback in targets:
            try:
                result = callback(data)
                if inspect.isawaitable(result):
                    await result
            except Exception as err:  # noqa: BLE001 - one listener's failure is not the stream's
                print(f"[classtop-sdk] listener for '{event.event_name}' raised: {err!r}", file=sys.stderr, flush=True)


def _decode(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")
