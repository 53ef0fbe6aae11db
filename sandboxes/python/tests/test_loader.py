"""Finding the plugin's one Plugin subclass, and its config.json."""

import os
import tempfile
import unittest

from classtop.loader import load_config, load_module, plugin_class
from classtop.plugin_system.exceptions import PluginLoadError

HEADER = "from tauri_app.plugin_system.base import Plugin\n"
CLASS = "class {0}(Plugin):\n    async def on_enable(self): pass\n    async def on_disable(self): pass\n"


class LoaderTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_finds_the_one_subclass_through_the_specification_import(self):
        entry = self.write("plugin.py", HEADER + CLASS.format("ExamplePlugin"))
        self.assertEqual(plugin_class(load_module(entry), entry).__name__, "ExamplePlugin")

    def test_none_or_two_is_a_load_error_that_says_which(self):
        entry = self.write("plugin.py", HEADER + "x = 1\n")
        with self.assertRaisesRegex(PluginLoadError, "defines no Plugin subclass"):
            plugin_class(load_module(entry), entry)
        entry = self.write("plugin.py", HEADER + CLASS.format("A") + CLASS.format("B"))
        with self.assertRaisesRegex(PluginLoadError, r"defines 2 Plugin subclasses \(A, B\)"):
            plugin_class(load_module(entry), entry)

    def test_an_import_error_is_a_load_error(self):
        entry = self.write("plugin.py", "import no_such_module\n")
        with self.assertRaisesRegex(PluginLoadError, "ModuleNotFoundError"):
            load_module(entry)

    def test_config_json(self):
        entry = self.write("plugin.py", "")
        self.assertEqual(load_config(entry), {})
        self.write("config.json", '{"a": 1}')
        self.assertEqual(load_config(entry), {"a": 1})
        self.write("config.json", "[1]")
        with self.assertRaisesRegex(PluginLoadError, "must hold a JSON object"):
            load_config(entry)


if __name__ == "__main__":
    unittest.main()
