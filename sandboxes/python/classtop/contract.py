"""The SDK's copy of the protocol contract (src/protocol/generated/contract.json).

The SDK ships alone inside the sandbox image, so it carries its own copy; the Python SDK's tests
(tests/test_contract.py) check it against the generated contract.
"""

from typing import Dict

PROTOCOL_VERSION = "1.0"

#: The trailing metadata key that names a refused stream's PluginErrorCode.
ERROR_CODE_METADATA_KEY = "classtop-error-code"

#: PluginErrorCode name -> the gRPC status the gateway uses for it where no response can carry it.
GRPC_STATUS: Dict[str, int] = {
    "OK": 0,
    "UNKNOWN_ERROR": 2,
    "AUTHENTICATION_FAILED": 16,
    "PERMISSION_DENIED": 7,
    "INVALID_REQUEST": 3,
    "TIMEOUT": 4,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "RATE_LIMIT_EXCEEDED": 8,
    "INTERNAL_ERROR": 13,
}

#: The container environment the orchestrator sets (src/protocol/container-env.ts): name -> required.
CONTAINER_ENV: Dict[str, bool] = {
    "CLASSTOP_PLUGIN_ID": True,
    "CLASSTOP_PLUGIN_NAME": False,
    "CLASSTOP_PLUGIN_VERSION": True,
    "CLASSTOP_PLUGIN_PERMISSIONS": False,
    "CLASSTOP_PLUGIN_ENTRY": True,
    "CLASSTOP_PLUGIN_CERTIFICATE": False,
    "CLASSTOP_GATEWAY_SOCKET": True,
    "CLASSTOP_PLUGIN_SOCKET": True,
    "CLASSTOP_TENANT": False,
    "CLASSTOP_DEPENDENCIES_DIR": False,
}


def refusal_text(code: str, message: str) -> str:
    """A failed response's message: the code's name first, as the gateway writes it."""
    prefix = f"{code}: "
    return message if message.startswith(prefix) else prefix + message


def without_code(message: str, code: str) -> str:
    """The reason alone: the typed error carries the code in ``code``."""
    prefix = f"{code}: "
    return message[len(prefix):] if message.startswith(prefix) else message
