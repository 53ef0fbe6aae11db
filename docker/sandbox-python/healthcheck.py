"""The image's HEALTHCHECK: a real gRPC call to the plugin's own socket, as the orchestrator's
health ping makes it: CallApi of a reserved name no plugin exports. An answer (success, or the
NOT_FOUND refusal for "no such function") proves the plugin's gRPC server and event loop are
alive; no socket, no answer within the time, or a gRPC error is unhealthy (exit 1)."""

import os
import sys

import grpc

import classtop_plugin_pb2 as pb
import classtop_plugin_pb2_grpc as rpc

SOCKET = os.environ.get("CLASSTOP_PLUGIN_SOCKET", "/run/classtop/plugin.sock")
HEALTH_FUNCTION = "__classtop_health__"
#: Below Docker's own timeout, so that the probe says why it failed.
TIMEOUT_S = 3.0


def main() -> int:
    try:
        with grpc.insecure_channel(f"unix:{SOCKET}") as channel:
            rpc.ClassTopPluginServiceStub(channel).CallApi(pb.PluginApiRequest(api_name=HEALTH_FUNCTION), timeout=TIMEOUT_S)
    except grpc.RpcError as err:
        print(f"unhealthy: {SOCKET}: CallApi answered {err.code().name}: {err.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
