"""The SDK's exceptions under ClassTop's own module path."""

from classtop.plugin_system.exceptions import PermissionDeniedError, PluginApiError, PluginLoadError

__all__ = ["PermissionDeniedError", "PluginApiError", "PluginLoadError"]
