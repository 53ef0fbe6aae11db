"""``from tauri_app.plugin_system.base import Plugin`` as the specification writes it: the SDK's class."""

from classtop.plugin_system.base import Plugin, export

__all__ = ["Plugin", "export"]
