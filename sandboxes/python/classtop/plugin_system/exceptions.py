"""The three failures a plugin sees (specification, "Python 错误处理")."""

from typing import Optional

from classtop.contract import GRPC_STATUS, without_code


class PluginLoadError(Exception):
    """plugin.py could not be loaded, or does not hold exactly one Plugin subclass."""


class PluginApiError(Exception):
    """A host API call failed; ``code`` is the PluginErrorCode name (e.g. ``"NOT_FOUND"``)."""

    def __init__(self, code: str, api_name: str, message: str) -> None:
        super().__init__(f"{api_name}: {message}" if api_name else message)
        self.code = code
        self.api_name = api_name
        self.reason = message


class PermissionDeniedError(PluginApiError):
    """The plugin called a host API it holds no permission for."""

    def __init__(self, api_name: str, message: str) -> None:
        super().__init__("PERMISSION_DENIED", api_name, message)


def api_error(code: str, api_name: str, message: str) -> PluginApiError:
    """The typed error for a refusal: PermissionDeniedError for PERMISSION_DENIED."""
    known = code if code in GRPC_STATUS and code != "OK" else "UNKNOWN_ERROR"
    reason = without_code(message, code) or f"{api_name} failed"
    if known == "PERMISSION_DENIED":
        return PermissionDeniedError(api_name, reason)
    return PluginApiError(known, api_name, reason)


def code_of_status(status: int, trailer: Optional[str]) -> str:
    """The PluginErrorCode of a failed RPC: its trailer, else its gRPC status."""
    if trailer in GRPC_STATUS:
        return str(trailer)
    if status == 14:  # UNAVAILABLE: the gateway is not there (yet)
        return "INTERNAL_ERROR"
    for code, number in GRPC_STATUS.items():
        if number == status and code != "OK":
            return code
    return "UNKNOWN_ERROR"
