"""Shared memory from Python: a region of the plugin's /dev/shm (its own tmpfs, which the host can
read), for large data such as a 1920x1080x3 frame, written in place and announced with
``notify_shared_memory_ready`` instead of sent in a gRPC payload (the specification's zero-copy
path; its C++ form is ``SharedMemory::Create(name, size)``, ``GetBuffer()``,
``NotifySharedMemoryReady(name, size)``)::

    from classtop.shared_memory import SharedMemory

    frame = SharedMemory.create("frame", 1920 * 1080 * 3)
    frame.buffer[:] = pixels                       # a writable memoryview over the mapped region
    await self.plugin_api.notify_shared_memory_ready("frame", frame.size)   # or frame.notify_ready(api)

The same regions and host consumers as the Node SDK's SharedMemory (readSharedMemory,
consumeSharedMemory, GET /v1/plugins/<tenant>/<id>/shm/<name>). The notification resolves once the
host has taken the region, so the region may then be written again.
"""

import errno
import mmap
import os
import re
from typing import Any, Optional

from classtop.plugin_system.exceptions import PluginApiError

SHM_DIR = "/dev/shm"
#: The gateway's own rule for a region's name (src/gateway/shared-memory-handler.ts).
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FILE_MODE = 0o600
API_NAME = "shared_memory"


def _refused(message: str) -> PluginApiError:
    return PluginApiError("INVALID_REQUEST", API_NAME, message)


class SharedMemory:
    """One region, mapped shared and writable into the plugin."""

    def __init__(self, name: str, size: int, fd: int, mapped: mmap.mmap, directory: str = SHM_DIR) -> None:
        self.name = name
        self.size = size
        self._path = os.path.join(directory, name)
        self._fd: Optional[int] = fd
        self._mapped: Optional[mmap.mmap] = mapped
        self._view: Optional[memoryview] = memoryview(mapped)

    @classmethod
    def create(cls, name: str, size: int, directory: str = SHM_DIR) -> "SharedMemory":
        """Creates (or resizes) region ``name``: 1-64 letters, digits, "_" or "-". Its pages are
        taken from the plugin's shm_mb at once, so a region that does not fit fails here
        (PluginApiError INVALID_REQUEST) rather than with a SIGBUS at its first write."""
        if not isinstance(name, str) or not NAME.match(name):
            raise _refused(f"shared memory name {name!r} must be 1-64 letters, digits, \"_\" or \"-\"")
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise _refused(f"shared memory size {size!r} must be a positive whole number of bytes")
        path = os.path.join(directory, name)
        try:
            # O_NOFOLLOW: a symlink planted under the name is refused, never written through.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
        except OSError as err:
            if err.errno != errno.ELOOP:
                raise
            raise _refused(f"shared memory '{name}' is a symlink in {directory}; remove it first") from err
        try:
            os.ftruncate(fd, size)
            os.posix_fallocate(fd, 0, size)
            mapped = mmap.mmap(fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as err:
            os.close(fd)
            if err.errno != errno.ENOSPC:
                raise
            os.unlink(path)  # no region half made
            raise _refused(
                f"shared memory '{name}' ({size} bytes) does not fit in what is left of this plugin's shm_mb; "
                "raise sandbox.shm_mb in plugin.yaml, or close regions no longer used"
            ) from err
        return cls(name, size, fd, mapped, directory)

    @property
    def buffer(self) -> memoryview:
        """The region, writable in place (the C++ SDK's GetBuffer())."""
        if self._view is None:
            raise _refused(f"shared memory '{self.name}' is closed")
        return self._view

    def write(self, data: Any, offset: int = 0) -> None:
        """Copies ``data`` (bytes-like) into the region at ``offset``."""
        view = self.buffer
        chunk = memoryview(data).cast("B")
        if offset < 0 or offset + chunk.nbytes > self.size:
            raise _refused(f"write past the end of shared memory '{self.name}' ({self.size} bytes)")
        if self._fd is not None and os.fstat(self._fd).st_size < self.size:
            # A region cut short behind the SDK's back (a truncate of its file) would fault at this
            # write and kill the plugin: it is made whole first.
            os.ftruncate(self._fd, self.size)
        view[offset : offset + chunk.nbytes] = chunk

    async def notify_ready(self, plugin_api: Any, size: Optional[int] = None) -> bool:
        """Tells the host that ``size`` bytes (all by default) are ready to read; returns once the
        host has taken them. A refusal raises PluginApiError, as the call does."""
        return await plugin_api.notify_shared_memory_ready(self.name, self.size if size is None else size)

    def close(self) -> None:
        """Unmaps the region; its file stays until the plugin stops. A view taken from ``buffer``
        (a slice kept elsewhere) must be released first, or the mapping cannot go."""
        try:
            if self._view is not None:
                self._view.release()
                self._view = None
            if self._mapped is not None:
                self._mapped.close()
                self._mapped = None
        except BufferError as err:
            raise _refused(
                f"shared memory '{self.name}' is still in use by a view of its buffer; release that view first"
            ) from err
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "SharedMemory":
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
