"""classtop.shared_memory over a directory of this machine (the sandbox's is /dev/shm): the region
is the file, written in place through its mapping; refusals are PluginApiError INVALID_REQUEST."""

import os
import tempfile
import unittest

from classtop.plugin_system.exceptions import PluginApiError
from classtop.shared_memory import SharedMemory

SIZE = 64 * 1024


def read(path):
    with open(path, "rb") as f:
        return f.read()


class SharedMemoryTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "frame")

    def tearDown(self):
        self.dir.cleanup()

    def test_the_buffer_and_write_land_in_the_region_file(self):
        with SharedMemory.create("frame", SIZE, self.dir.name) as region:
            self.assertEqual((region.name, region.size, len(region.buffer)), ("frame", SIZE, SIZE))
            region.buffer[:4] = b"head"
            region.write(b"tail", SIZE - 4)
            data = read(self.path)
        self.assertEqual((len(data), data[:4], data[-4:]), (SIZE, b"head", b"tail"))
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)

    def test_create_again_resizes_and_a_write_after_a_truncate_makes_it_whole(self):
        SharedMemory.create("frame", SIZE, self.dir.name).close()
        region = SharedMemory.create("frame", 2 * SIZE, self.dir.name)
        self.assertEqual(os.path.getsize(self.path), 2 * SIZE)
        os.truncate(self.path, 100)
        region.write(b"x" * 10, 2 * SIZE - 10)  # would be a SIGBUS through the cut mapping
        self.assertEqual(os.path.getsize(self.path), 2 * SIZE)
        region.close()

    def test_refusals_are_plugin_api_errors(self):
        for name in ["../escape", "a/b", "", "x" * 65]:
            with self.assertRaises(PluginApiError, msg=name) as caught:
                SharedMemory.create(name, 10, self.dir.name)
            self.assertEqual(caught.exception.code, "INVALID_REQUEST")
            self.assertIn('must be 1-64 letters, digits, "_" or "-"', str(caught.exception))
        for size in [0, -1, 1.5, True]:
            with self.assertRaises(PluginApiError, msg=repr(size)):
                SharedMemory.create("frame", size, self.dir.name)
        with SharedMemory.create("frame", 10, self.dir.name) as region:
            with self.assertRaisesRegex(PluginApiError, "write past the end of shared memory 'frame'"):
                region.write(b"x" * 11)
        os.symlink("/etc/passwd", os.path.join(self.dir.name, "evil"))
        with self.assertRaisesRegex(PluginApiError, "'evil' is a symlink"):
            SharedMemory.create("evil", 10, self.dir.name)

    def test_a_closed_region_refuses_and_a_view_still_held_keeps_it_open(self):
        region = SharedMemory.create("frame", SIZE, self.dir.name)
        view = region.buffer[0:8]
        with self.assertRaisesRegex(PluginApiError, "still in use by a view of its buffer"):
            region.close()
        view.release()
        region.close()
        with self.assertRaisesRegex(PluginApiError, "'frame' is closed"):
            region.write(b"x")


if __name__ == "__main__":
    unittest.main()
