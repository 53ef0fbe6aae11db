"""The plugin's host API calls, many on one CallStream to the gateway (as the Node SDK's
call-stream.ts): a call costs a message each way instead of an HTTP/2 stream of its own. The
stream is opened with the first call, and again after it broke; a gateway that does not offer
CallStream (UNIMPLEMENTED) is called with CallApi. Answers are matched to calls by id."""

import asyncio
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

import grpc

import classtop_plugin_pb2 as pb
from classtop.contract import ERROR_CODE_METADATA_KEY

#: The gateway answers every call by its deadline; this much later, the SDK stops waiting for it.
ANSWER_GRACE_S = 1.0
LAST_ID = 0xFFFFFFFF
#: A stream that ended for one of these went with its connection: the SDK reconnects.
CONNECTION_LOST = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN})


class CallFailure(Exception):
    """A call that got no answer: its gRPC status, details and ``classtop-error-code`` trailer."""

    def __init__(self, status: grpc.StatusCode, details: str, trailer: Optional[str] = None) -> None:
        super().__init__(details)
        self.status = status
        self.details = details
        self.trailer = trailer

    @classmethod
    def of(cls, err: grpc.aio.AioRpcError) -> "CallFailure":
        trailer = dict(err.trailing_metadata() or ()).get(ERROR_CODE_METADATA_KEY)
        return cls(err.code(), err.details() or err.code().name, trailer)


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _write_failure(err: BaseException) -> Exception:
    if not isinstance(err, grpc.aio.AioRpcError):
        return CallFailure(grpc.StatusCode.UNAVAILABLE, "the call stream ended before the call was sent")
    failure = CallFailure.of(err)
    return _Unsupported() if failure.status == grpc.StatusCode.UNIMPLEMENTED else failure


class _Unsupported(Exception):
    """The gateway has no CallStream: the call goes again by CallApi."""


#: Opens a CallStream on the current channel: () -> (the stream call, its connection generation).
Opener = Callable[[], Tuple[Any, int]]
#: One unary CallApi: (request, deadline in Unix seconds) -> PluginApiResponse.
UnaryCall = Callable[[Any, float], Awaitable[Any]]
#: Told that the connection of generation ``n`` is gone.
LostListener = Callable[[int], None]


class CallStream:
    def __init__(self, open_stream: Opener, call_api: UnaryCall, lost: LostListener) -> None:
        self._open_stream = open_stream
        self._call_api = call_api
        self._lost = lost
        self._stream: Optional[Any] = None
        self._reader: Optional["asyncio.Task[None]"] = None
        #: id -> (the stream it was sent on, the future its answer settles).
        self._waiting: Dict[int, Tuple[Any, "asyncio.Future[Any]"]] = {}
        self._write_lock = asyncio.Lock()
        self._last_id = 0
        self._unsupported = False
        self._closed = False

    async def call(self, request: Any, deadline_s: float) -> Any:
        """Sends one call; the gateway's PluginApiResponse, or CallFailure."""
        if self._unsupported:
            return await self._call_api(request, deadline_s)
        try:
            return await self._on_stream(request, deadline_s)
        except _Unsupported:
            return await self._call_api(request, deadline_s)

    async def _on_stream(self, request: Any, deadline_s: float) -> Any:
        if self._closed:
            raise CallFailure(grpc.StatusCode.CANCELLED, "the plugin is shutting down")
        stream = self._connected()
        call_id = self._next_id()
        answer: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = (stream, answer)
        try:
            message = pb.PluginApiCall(id=call_id, request=request, deadline_ms=int(deadline_s * 1000))
            async with self._write_lock:
                await stream.write(message)
            timeout = max(0.0, deadline_s - time.time()) + ANSWER_GRACE_S
            return await asyncio.wait_for(answer, timeout)
        except asyncio.TimeoutError:
            raise CallFailure(grpc.StatusCode.DEADLINE_EXCEEDED, "the gateway did not answer in time") from None
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError, grpc.aio.UsageError, asyncio.CancelledError) as err:
            # The stream ended under the write (grpc.aio raises CancelledError for a stream the SDK
            # cancelled): the reader's answer if it has one, else the write's own failure.
            if isinstance(err, asyncio.CancelledError) and _cancelling():
                raise  # the caller itself is being cancelled
            if answer.done():
                return answer.result()
            raise _write_failure(err) from None
        finally:
            self._waiting.pop(call_id, None)

    def reset(self, reason: str) -> None:
        """Drops the stream (its channel is being replaced); the calls on it fail."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.cancel()
            self._fail(stream, CallFailure(grpc.StatusCode.UNAVAILABLE, reason))

    def close(self) -> None:
        """Ends the stream; calls still waiting fail."""
        self._closed = True
        self.reset("the plugin is shutting down")

    def _connected(self) -> Any:
        if self._stream is not None and not self._stream.done():
            return self._stream
        stream, generation = self._open_stream()
        self._stream = stream
        self._reader = asyncio.get_running_loop().create_task(self._read(stream, generation))
        return stream

    async def _read(self, stream: Any, generation: int) -> None:
        failure: Exception
        try:
            while True:
                result = await stream.read()
                if result is grpc.aio.EOF:
                    failure = CallFailure(grpc.StatusCode.UNAVAILABLE, "the gateway ended the call stream")
                    break
                self._answer(result)
        except grpc.aio.AioRpcError as err:
            failure = CallFailure.of(err)
        except asyncio.CancelledError:
            # The stream (or its channel) was cancelled by the SDK: reset() or close() said why.
            failure = CallFailure(grpc.StatusCode.CANCELLED, "the call stream was cancelled")
        if self._stream is stream:
            self._stream = None
        if isinstance(failure, CallFailure) and failure.status == grpc.StatusCode.UNIMPLEMENTED:
            # A gateway without CallStream: the calls waiting, and every call after, go by CallApi.
            self._unsupported = True
            failure = _Unsupported()
        self._fail(stream, failure)
        if not self._closed and isinstance(failure, CallFailure) and failure.status in CONNECTION_LOST:
            self._lost(generation)

    def _answer(self, result: Any) -> None:
        entry = self._waiting.get(result.id)
        if entry is None or entry[1].done():
            return  # answered after its caller stopped waiting
        if result.HasField("response"):
            entry[1].set_result(result.response)
        else:
            entry[1].set_exception(
                CallFailure(grpc.StatusCode.INTERNAL, f"the gateway answered call {result.id} without a response")
            )

    def _fail(self, stream: Any, failure: Exception) -> None:
        for sent_on, answer in list(self._waiting.values()):
            if sent_on is stream and not answer.done():
                answer.set_exception(failure)

    def _next_id(self) -> int:
        self._last_id = 1 if self._last_id == LAST_ID else self._last_id + 1
        return self._last_id
