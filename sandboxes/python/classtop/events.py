"""The plugin's SubscribeEvents stream: opened with the first listener, closed with the last,
opened again on the gateway's new connection after a reconnection; each event is acknowledged
after its listeners ran."""

import asyncio
import inspect
import json
import sys
from typing import Any, Callable, Dict, List, Optional

import grpc

import classtop_plugin_pb2 as pb
from classtop.call_stream import CONNECTION_LOST
from classtop.gateway import Gateway

#: ``"*"`` listens to every event.
ANY_EVENT = "*"


class EventSubscription:
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._listeners: Dict[str, List[Callable[[Any], Any]]] = {}
        self._task: Optional["asyncio.Task[None]"] = None
        # On a new connection, the stream is opened again there: the same events, subscribed anew.
        gateway.on_reconnected(self._reopen)

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

    def _reopen(self) -> None:
        if not self._listeners:
            return
        self.close()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        stream, generation = self._gateway.open_event_stream()
        lost = False
        try:
            while True:
                event = await stream.read()
                if event is grpc.aio.EOF:
                    lost = True
                    return
                await self._dispatch(event)
                await stream.write(pb.PluginEventAck(received=True))
        except grpc.aio.AioRpcError as err:
            lost = err.code() in CONNECTION_LOST
            if err.code() != grpc.StatusCode.CANCELLED:
                print(f"[classtop-sdk] event stream failed: {err.code().name}: {err.details()}", file=sys.stderr)
        finally:
            stream.cancel()
            if lost and self._listeners:
                # Ended by the gateway's side, not by close(): its connection is gone.
                self._gateway.connection_lost(generation)

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
