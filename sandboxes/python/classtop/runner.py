"""The program a python sandbox container runs (``python3 -I -B -m classtop.runner``): loads
plugin.py, serves the plugin's side of the protocol on its socket, registers with the gateway,
and runs until the host says SHUTDOWN (or SIGTERM). Its settings come from the container
environment the orchestrator sets (classtop.contract.CONTAINER_ENV)."""

import asyncio
import os
import signal
import sys
from typing import Any, Dict, List

from classtop.events import EventSubscription
from classtop.gateway import Gateway
from classtop.loader import load_config, load_module, plugin_class
from classtop.plugin_api import PluginAPI
from classtop.plugin_server import serve
from classtop.plugin_system.exceptions import PluginLoadError

CALL_TIMEOUT_S = 30.0
SERVER_GRACE_S = 2.0
DEFAULT_CERTIFICATE = "/plugin/plugin.crt"


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise PluginLoadError(f"environment variable {name} is not set; the runner runs inside a classtop-sandbox container")
    return value


def permissions() -> List[str]:
    return [p for p in os.environ.get("CLASSTOP_PLUGIN_PERMISSIONS", "").split(",") if p]


def add_dependencies() -> None:
    """Puts the plugin's resolved python_packages (mounted read-only by the orchestrator) first on
    sys.path: ``python3 -I`` ignores PYTHONPATH, and a bundled wheel must win over the image's copy."""
    directory = os.environ.get("CLASSTOP_DEPENDENCIES_DIR")
    if directory and os.path.isdir(directory) and directory not in sys.path:
        sys.path.insert(0, directory)


def identity() -> Dict[str, Any]:
    path = os.environ.get("CLASSTOP_PLUGIN_CERTIFICATE") or DEFAULT_CERTIFICATE
    certificate = b""
    if os.path.exists(path):
        with open(path, "rb") as f:
            certificate = f.read()
    return {
        "plugin_id": required("CLASSTOP_PLUGIN_ID"),
        "plugin_name": os.environ.get("CLASSTOP_PLUGIN_NAME", ""),
        "version": required("CLASSTOP_PLUGIN_VERSION"),
        "permissions": permissions(),
        "certificate": certificate,
    }


async def main() -> None:
    me = identity()
    entry = required("CLASSTOP_PLUGIN_ENTRY")
    add_dependencies()
    gateway = Gateway(required("CLASSTOP_GATEWAY_SOCKET"), CALL_TIMEOUT_S)
    api = PluginAPI(gateway.call, EventSubscription(gateway), permissions())
    plugin = plugin_class(load_module(entry), entry)(api)
    plugin.plugin_api = api
    plugin.config = load_config(entry)
    plugin.id = me["plugin_id"]

    socket_path = required("CLASSTOP_PLUGIN_SOCKET")
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    done = asyncio.Event()
    server = await serve(plugin, socket_path, done.set)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    gateway.on_lost = done.set  # the gateway did not come back: exit, and the host restarts the plugin
    gateway.keep_token_fresh(me, await gateway.register(me))
    await done.wait()
    api.events.close()
    await server.stop(SERVER_GRACE_S)
    await gateway.close()
    if gateway.lost:
        sys.exit(1)


def run() -> None:
    try:
        asyncio.run(main())
    except PluginLoadError as err:
        print(f"[classtop-sdk] PluginLoadError: {err}", file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    run()
