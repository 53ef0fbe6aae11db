"""The gateway goes away and comes back on the same socket: the SDK registers again on a fresh
channel, and its call stream and event stream work there; a call in flight fails, never hangs."""

import asyncio
import unittest

from tests.fake_gateway import FakeGateway, start
from tests.test_call_stream import TEST_BOUND_S, GatewayTestCase
from classtop.events import EventSubscription
from classtop.plugin_system.exceptions import PluginApiError


class ReconnectTest(GatewayTestCase):
    async def restart(self) -> FakeGateway:
        await self.server.stop(0)
        self.fake = FakeGateway("second")
        self.server = await start(self.fake, self.socket)
        return self.fake

    async def test_registers_again_and_reopens_both_streams_after_a_restart(self):
        events = EventSubscription(self.gateway)
        seen = asyncio.Queue()
        events.on("ping", seen.put_nowait)
        await asyncio.wait_for(self.fake.event_stream_open.wait(), TEST_BOUND_S)
        self.assertEqual((await self.call("before"))["gateway"], "first")
        second = await self.restart()
        # The event stream ending tells the SDK; it re-registers and subscribes again by itself.
        await asyncio.wait_for(second.event_stream_open.wait(), TEST_BOUND_S)
        self.assertEqual(second.registers, 1)
        after = await self.call("after")
        self.assertEqual((after["gateway"], after["token"]), ("second", "second-1"))
        second.push_event("ping", {"n": 1})
        self.assertEqual(await asyncio.wait_for(seen.get(), TEST_BOUND_S), {"n": 1})
        events.close()

    async def test_a_call_in_flight_fails_with_plugin_api_error_and_the_next_one_works(self):
        held = asyncio.get_running_loop().create_task(self.call("hold"))
        await self.call("warm")
        await self.restart()
        with self.assertRaises(PluginApiError) as caught:
            await held
        self.assertNotEqual(caught.exception.code, "TIMEOUT", "it failed when the stream broke")
        self.assertEqual((await self.call("after"))["gateway"], "second")

    async def test_a_gateway_that_does_not_come_back_is_given_up_and_the_runner_told(self):
        gave_up = asyncio.Event()
        self.gateway.on_lost = gave_up.set
        self.gateway.give_up_s = 0.5
        await self.call("warm")
        await self.server.stop(0)
        with self.assertRaises(PluginApiError):
            await self.call("while-gone")
        await asyncio.wait_for(gave_up.wait(), TEST_BOUND_S)
        self.assertTrue(self.gateway.lost)


if __name__ == "__main__":
    unittest.main()
