"""Loads plugin.py and finds its one Plugin subclass, without further configuration."""

import importlib.util
import inspect
import json
import os
import sys
from types import ModuleType
from typing import Any, Dict, Type

from classtop.plugin_system.base import Plugin
from classtop.plugin_system.exceptions import PluginLoadError

MODULE_NAME = "plugin"
CONFIG_FILE = "config.json"


def load_module(entry: str) -> ModuleType:
    """Imports ``entry``; its directory is importable, so the plugin may split into modules."""
    directory = os.path.dirname(os.path.abspath(entry))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(MODULE_NAME, entry)
    if spec is None or spec.loader is None:
        raise PluginLoadError(f"cannot load the plugin entry {entry}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        raise PluginLoadError(f"cannot load the plugin entry {entry}: {type(err).__name__}: {err}") from err
    return module


def plugin_class(module: ModuleType, entry: str) -> Type[Plugin]:
    """The one concrete Plugin subclass the module defines; none or several is a load error."""
    found = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, Plugin)
        and value.__module__ == module.__name__
        and not inspect.isabstract(value)
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        raise PluginLoadError(
            f"{entry} defines no Plugin subclass with on_enable and on_disable; "
            "write `class MyPlugin(Plugin)` (from tauri_app.plugin_system.base or classtop.plugin_system.base)"
        )
    names = ", ".join(sorted(c.__name__ for c in found))
    raise PluginLoadError(f"{entry} defines {len(found)} Plugin subclasses ({names}); keep exactly one in plugin.py")


def load_config(entry: str) -> Dict[str, Any]:
    """config.json beside the entry (the user's configuration), or {} when there is none."""
    path = os.path.join(os.path.dirname(entry), CONFIG_FILE)
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError) as err:
        raise PluginLoadError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(config, dict):
        raise PluginLoadError(f"{path} must hold a JSON object, not {type(config).__name__}")
    return config
