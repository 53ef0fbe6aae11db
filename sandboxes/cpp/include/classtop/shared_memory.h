// Shared memory for large data (the specification's "共享内存 (C++ 插件专用)"): a region of the
// plugin's own /dev/shm (a size-capped tmpfs the host can read), mapped into the plugin, written
// in place, and announced with PluginAPI::NotifySharedMemoryReady:
//
//   auto shm = classtop::SharedMemory::Create("image_data", 1920 * 1080 * 3);
//   memcpy(shm->GetBuffer(), image.data(), image.size());
//   api_->NotifySharedMemoryReady("image_data", image.size());
//
// Header-only (POSIX): the region's pages are allocated when it is created, so a region that does
// not fit in the plugin's shm_mb fails in Create rather than killing the plugin with SIGBUS at a
// write. The file stays until the plugin's container stops; the mapping goes with the object.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>

#include "classtop/exceptions.h"
#include "classtop/export.h"

namespace classtop {

class CLASSTOP_VISIBLE SharedMemory {
public:
    /** Where the plugin's regions live inside its container. */
    static constexpr const char* kDirectory = "/dev/shm";
    static constexpr std::size_t kMaxNameLength = 64;

    /**
     * Creates (or resizes) the region `name`: 1-64 letters, digits, "_" or "-". Throws
     * PluginApiError (INVALID_REQUEST for a bad name or size, INTERNAL_ERROR when the region
     * cannot be made, e.g. it does not fit in the plugin's sandbox.shm_mb).
     */
    static std::unique_ptr<SharedMemory> Create(const std::string& name, std::size_t size) {
        if (!ValidName(name)) {
            throw PluginApiError("INVALID_REQUEST", "SharedMemory::Create",
                                 "shared memory name '" + name + "' must be 1-64 letters, digits, \"_\" or \"-\"");
        }
        if (size == 0) {
            throw PluginApiError("INVALID_REQUEST", "SharedMemory::Create", "shared memory size must be positive");
        }
        const std::string path = std::string(kDirectory) + "/" + name;
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) Fail(name, size, "cannot open " + path, errno);
        // Truncate first: a region made smaller keeps no stale tail.
        int err = ::ftruncate(fd, static_cast<off_t>(size)) == 0 ? 0 : errno;
        if (err == 0) err = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
        // MAP_POPULATE: the page tables are filled here, once, not by a fault per page at the first write.
        void* start =
            err == 0 ? ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0) : MAP_FAILED;
        if (err == 0 && start == MAP_FAILED) err = errno;
        ::close(fd);  // the mapping keeps the region
        if (err != 0) {
            if (err == ENOSPC) ::unlink(path.c_str());  // no region half made
            Fail(name, size, err == ENOSPC ? "it does not fit in what is left of this plugin's shm_mb; raise "
                                             "sandbox.shm_mb in plugin.yaml, or remove regions no longer used"
                                           : "cannot allocate or map it",
                 err);
        }
        return std::unique_ptr<SharedMemory>(new SharedMemory(name, size, start));
    }

    SharedMemory(const SharedMemory&) = delete;
    SharedMemory& operator=(const SharedMemory&) = delete;
    ~SharedMemory() { ::munmap(buffer_, size_); }

    /** The region's first byte: GetSize() bytes, shared with the host. */
    void* GetBuffer() const noexcept { return buffer_; }
    std::size_t GetSize() const noexcept { return size_; }
    const std::string& GetName() const noexcept { return name_; }

private:
    SharedMemory(std::string name, std::size_t size, void* buffer)
        : name_(std::move(name)), size_(size), buffer_(buffer) {}

    static bool ValidName(const std::string& name) {
        if (name.empty() || name.size() > kMaxNameLength) return false;
        for (char c : name) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '-';
            if (!ok) return false;
        }
        return true;
    }

    [[noreturn]] static void Fail(const std::string& name, std::size_t size, const std::string& why, int err) {
        throw PluginApiError("INTERNAL_ERROR", "SharedMemory::Create",
                             "shared memory '" + name + "' (" + std::to_string(size) + " bytes): " + why + ": " +
                                 std::strerror(err));
    }

    std::string name_;
    std::size_t size_;
    void* buffer_;
};

}  // namespace classtop
