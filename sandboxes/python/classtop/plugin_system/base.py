"""The plugin base class, as the specification writes it (``tauri_app/plugin_system/base.py``).

A plugin::

    from tauri_app.plugin_system.base import Plugin   # or: from classtop.plugin_system.base import Plugin

    class ExamplePlugin(Plugin):
        async def on_enable(self): ...
        async def on_disable(self): ...

Functions the host may call (``classtop-sandbox call``, the admin API) are exported either with
the ``@export`` decorator or by naming them in a class attribute ``exports = ["process_data"]``
(for a plugin that must run unmodified elsewhere). Each takes the call's JSON payload and returns
something JSON can hold; it may be sync or async.
"""

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Sequence, TypeVar

if TYPE_CHECKING:
    from classtop.plugin_api import PluginAPI

F = TypeVar("F", bound=Callable[..., Any])

_EXPORT_MARK = "__classtop_export__"
#: The host's health ping calls a name of this prefix; no plugin may export one.
RESERVED_PREFIX = "__classtop"


def export(fn: F) -> F:
    """Marks a Plugin method as callable by the host under its own name."""
    setattr(fn, _EXPORT_MARK, True)
    return fn


class Plugin(ABC):
    """插件基类: the base of every ClassTop Python plugin."""

    #: Names of methods the host may call, beside those marked with @export.
    exports: Sequence[str] = ()

    def __init__(self, plugin_api: "PluginAPI") -> None:
        self.plugin_api = plugin_api
        self.config: Dict[str, Any] = {}
        self.state: Dict[str, Any] = {}
        self._id: Optional[str] = None

    @property
    def id(self) -> str:
        """插件 ID: the id from plugin.yaml (the class name outside a sandbox)."""
        return self._id or self.__class__.__name__

    @id.setter
    def id(self, value: str) -> None:
        self._id = value

    @abstractmethod
    async def on_enable(self) -> None:
        """插件启用时调用."""

    @abstractmethod
    async def on_disable(self) -> None:
        """插件禁用时调用."""

    async def on_save(self) -> Dict[str, Any]:
        """保存插件状态 (用于热重载): handed to the next version's on_restore."""
        return self.state

    async def on_restore(self, state: Dict[str, Any]) -> None:
        """恢复插件状态 (用于热重载): called before on_enable."""
        self.state = state

    def exported_function(self, name: str) -> Optional[Callable[[Any], Any]]:
        """The bound method the host calls as ``name``, or None. Used by the runner."""
        if name.startswith(RESERVED_PREFIX) or name.startswith("_"):
            return None
        fn = getattr(self, name, None)
        if not callable(fn):
            return None
        if name in self.exports or getattr(fn, _EXPORT_MARK, False):
            return fn
        return None
