"""The Python SDK against the generated contract (src/protocol/generated/contract.json): its
method table, protocol version, error codes and container environment. Run by
test/e2e/python-plugins.test.ts as ``python3 -m unittest discover sandboxes/python/tests``."""

import asyncio
import inspect
import json
import os
import unittest

from classtop.contract import CONTAINER_ENV, ERROR_CODE_METADATA_KEY, GRPC_STATUS, PROTOCOL_VERSION, refusal_text
from classtop.plugin_api import HOST_API_METHODS, PluginAPI

CONTRACT = os.path.join(os.path.dirname(__file__), "../../../src/protocol/generated/contract.json")
#: A placeholder argument for each parameter, by annotation: the wire path is not under test here.
PLACEHOLDERS = {int: 1, str: "x"}


def load_contract():
    with open(CONTRACT, encoding="utf-8") as f:
        return json.load(f)


class NoEvents:
    def on(self, *_args):
        pass

    def off(self, *_args):
        pass


class MethodTableTest(unittest.TestCase):
    def setUp(self):
        self.catalogue = load_contract()["hostApis"]

    def test_has_every_api_of_the_catalogue_and_no_other(self):
        self.assertEqual(sorted(HOST_API_METHODS), sorted(self.catalogue))

    def test_states_each_permission_as_the_catalogue_does(self):
        for name, (_method, permission) in HOST_API_METHODS.items():
            self.assertEqual(permission, self.catalogue[name]["permission"], name)

    def test_each_method_calls_its_api_name(self):
        for name, (method, _permission) in HOST_API_METHODS.items():
            with self.subTest(api=name):
                self.assertEqual(asyncio.run(self.called_by(method)), [name])

    async def called_by(self, method):
        sent = []

        async def record(api_name, _payload):
            sent.append(api_name)
            return None

        api = PluginAPI(record, NoEvents())
        fn = getattr(api, method)
        params = [p for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty]
        args = [PLACEHOLDERS.get(p.annotation, []) for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        result = fn(*args)
        if inspect.isawaitable(result):
            try:
                await result
            except (TypeError, AttributeError):
                pass  # turning the recorder's None into a typed result: not what is checked here
        await api.flush_logs()
        return sent


class SpecificationSignaturesTest(unittest.TestCase):
    """The specification's "Plugin API": async where it shows async, sync log_info / log_error / on / off."""

    def test_async_and_sync_as_written(self):
        for name in ("get_courses", "add_course", "get_schedule_for_week", "add_schedule_entry", "emit_event",
                     "get_setting", "set_setting", "get_plugin_data", "set_plugin_data"):
            self.assertTrue(inspect.iscoroutinefunction(getattr(PluginAPI, name)), name)
        for name in ("log_info", "log_error", "on", "off"):
            self.assertFalse(inspect.iscoroutinefunction(getattr(PluginAPI, name)), name)

    def test_parameters_as_written(self):
        expected = {
            "add_course": ["name", "teacher", "location", "color"],
            "get_schedule_for_week": ["week"],
            "add_schedule_entry": ["course_id", "day_of_week", "start_time", "end_time", "weeks"],
            "emit_event": ["event_name", "data"],
            "on": ["event_name", "callback"],
            "set_setting": ["key", "value"],
            "set_plugin_data": ["key", "value"],
        }
        for name, params in expected.items():
            self.assertEqual(list(inspect.signature(getattr(PluginAPI, name)).parameters)[1:], params, name)


class ContractCopyTest(unittest.TestCase):
    def setUp(self):
        self.contract = load_contract()

    def test_protocol_version(self):
        self.assertEqual(PROTOCOL_VERSION, self.contract["protocolVersion"])

    def test_error_codes_and_their_grpc_status(self):
        expected = {code: entry["grpcStatus"] for code, entry in self.contract["errorCodes"].items()}
        self.assertEqual(GRPC_STATUS, expected)
        self.assertEqual(ERROR_CODE_METADATA_KEY, self.contract["errorCodeMetadataKey"])

    def test_refusal_texts_by_the_gateway_rule(self):
        for example in self.contract["refusalExamples"]:
            self.assertEqual(refusal_text(example["code"], example["message"]), example["text"])

    def test_container_environment(self):
        expected = {name: entry["required"] for name, entry in self.contract["containerEnvironment"].items()}
        self.assertEqual(CONTAINER_ENV, expected)


if __name__ == "__main__":
    unittest.main()
