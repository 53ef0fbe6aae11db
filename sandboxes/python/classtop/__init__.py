"""The ClassTop plugin SDK for Python: what a plugin imports inside its sandbox container.

A plugin is a ``plugin.py`` with one ``Plugin`` subclass (see ``classtop.plugin_system.base``);
the runner (``python3 -I -m classtop.runner``) loads it, connects it to the gateway and serves
the host's lifecycle calls and the plugin's exported functions.
"""

from classtop.plugin_system.base import Plugin, export
from classtop.plugin_system.exceptions import PermissionDeniedError, PluginApiError, PluginLoadError
from classtop.plugin_api import Course, PluginAPI, ScheduleEntry
from classtop.shared_memory import SharedMemory

__all__ = [
    "Course",
    "PermissionDeniedError",
    "Plugin",
    "PluginAPI",
    "PluginApiError",
    "PluginLoadError",
    "ScheduleEntry",
    "SharedMemory",
    "export",
]
