"""The protocol stubs for tests that speak gRPC: generated from proto/ by Debian's grpc_tools
into a temporary directory (as docker/build-images.sh does for the image; never committed)."""

import atexit
import os
import shutil
import sys
import tempfile

from grpc_tools import protoc

PROTO_DIR = os.path.join(os.path.dirname(__file__), "../../../proto")


def _generate() -> str:
    out = tempfile.mkdtemp(prefix="classtop-stubs-")
    atexit.register(shutil.rmtree, out, True)
    proto = os.path.join(PROTO_DIR, "classtop_plugin.proto")
    args = ["protoc", f"-I{PROTO_DIR}", f"--python_out={out}", f"--grpc_python_out={out}", proto]
    if protoc.main(args) != 0:
        raise RuntimeError(f"grpc_tools could not generate the stubs from {proto}")
    return out


if "classtop_plugin_pb2" not in sys.modules:
    sys.path.insert(0, _generate())
