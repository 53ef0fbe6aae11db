"""Host API calls on one CallStream, against a stand-in gateway on a real unix socket: answers
matched by id, refusals as the SDK's exceptions, the CallApi fallback, a broken stream."""

import asyncio
import os
import tempfile
import unittest

from tests.fake_gateway import FakeGateway, start
from classtop.gateway import Gateway
from classtop.plugin_system.exceptions import PermissionDeniedError, PluginApiError

IDENTITY = {"plugin_id": "com.test.unit", "plugin_name": "Unit", "version": "1.0.0", "permissions": []}
#: Long enough never to be what ends a test's call; the tests' own bound is TEST_BOUND_S.
CALL_TIMEOUT_S = 30.0
TEST_BOUND_S = 10.0


class GatewayTestCase(unittest.IsolatedAsyncioTestCase):
    call_stream = True

    async def asyncSetUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.socket = os.path.join(self.dir.name, "gateway.sock")
        self.fake = FakeGateway("first", call_stream=self.call_stream)
        self.server = await start(self.fake, self.socket)
        self.gateway = Gateway(self.socket, CALL_TIMEOUT_S)
        self.gateway.keep_token_fresh(IDENTITY, await self.gateway.register(IDENTITY))

    async def asyncTearDown(self):
        await self.gateway.close()
        await self.server.stop(0)
        self.dir.cleanup()

    async def call(self, api_name, payload=None, timeout_s=TEST_BOUND_S):
        return await asyncio.wait_for(self.gateway.call(api_name, payload or {}), timeout_s)


class CallStreamTest(GatewayTestCase):
    async def test_calls_share_one_stream_and_each_gets_its_own_answer(self):
        slow = asyncio.get_running_loop().create_task(self.call("slow", {"delay": 0.3}))
        fast = [await self.call("fast", {"n": n}) for n in range(3)]
        self.assertFalse(slow.done(), "the fast calls were answered while the slow one waited")
        self.assertEqual([r["payload"] for r in fast], [{"n": 0}, {"n": 1}, {"n": 2}])
        self.assertEqual((await slow)["api"], "slow")
        self.assertEqual(self.fake.streams, 1)
        self.assertEqual(self.fake.unary_calls, 0)
        self.assertEqual(fast[0]["token"], "first-1", "the stream carries the session token")

    async def test_a_refusal_on_the_stream_is_permission_denied_and_the_stream_goes_on(self):
        with self.assertRaises(PermissionDeniedError) as caught:
            await self.call("denied")
        self.assertEqual(caught.exception.code, "PERMISSION_DENIED")
        self.assertEqual(caught.exception.reason, "denied needs permission 'x'")
        self.assertEqual((await self.call("after"))["api"], "after")
        self.assertEqual(self.fake.streams, 1)

    async def test_a_call_in_flight_when_the_stream_breaks_fails_and_the_next_call_reopens_it(self):
        held = asyncio.get_running_loop().create_task(self.call("hold"))
        await self.call("warm")  # the held call is on the stream before it breaks
        with self.assertRaises(PluginApiError) as broken:
            await self.call("break")
        with self.assertRaises(PluginApiError) as in_flight:
            await held
        for err in (broken.exception, in_flight.exception):
            self.assertEqual(err.code, "INTERNAL_ERROR", "UNAVAILABLE: the gateway was not there")
            self.assertIn("the stream was broken on request", str(err))
        self.assertEqual((await self.call("again"))["api"], "again")
        self.assertEqual(self.fake.streams, 2)

    async def test_a_call_the_gateway_never_answers_ends_with_timeout(self):
        self.gateway._call_timeout_s = 0.2
        with self.assertRaises(PluginApiError) as caught:
            await self.call("hold")
        self.assertEqual(caught.exception.code, "TIMEOUT")


class CallApiFallbackTest(GatewayTestCase):
    call_stream = False

    async def test_a_gateway_without_call_stream_is_called_with_call_api(self):
        self.assertEqual((await self.call("one"))["api"], "one")
        self.assertEqual((await self.call("two"))["token"], "first-1")
        with self.assertRaises(PermissionDeniedError):
            await self.call("denied")
        self.assertEqual(self.fake.unary_calls, 3)


if __name__ == "__main__":
    unittest.main()
