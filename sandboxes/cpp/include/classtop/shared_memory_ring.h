// A ring of shared memory regions for a stream of frames (video, say): the producer writes the
// next frame while the host still takes the last ones, instead of waiting for each
// NotifySharedMemoryReady's answer before writing again.
//
//   classtop::SharedMemoryRing ring(api_, "video", 1920 * 1080 * 3, 3);
//   for (...) {
//       void* buffer = ring.Next();          // region "video-<k>", once the host has taken its last frame
//       memcpy(buffer, image.data(), image.size());
//       ring.Publish(image.size());          // announced from the region's own thread; returns at once
//   }
//   ring.Flush();                            // every frame taken; throws the first refusal
//
// Region k is "<prefix>-<k>", mapped once for the ring's life. A region is written again only
// after the host has answered its last announcement: the host never reads a frame being
// overwritten. Each region announces from a thread of its own (the runner's calls are
// thread-safe and share one stream), so up to `slots` announcements are in flight. A refused
// announcement (PluginApiError) is thrown by the next Next or Flush. Header-only, on the public
// PluginAPI: nothing of the runner's ABI changes. Use a ring from one thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "classtop/plugin_api.h"
#include "classtop/shared_memory.h"

namespace classtop {

class CLASSTOP_VISIBLE SharedMemoryRing {
public:
    /** `slots` regions "<prefix>-0" ... of `size` bytes each (SharedMemory::Create's rules and errors). */
    SharedMemoryRing(std::shared_ptr<PluginAPI> api, const std::string& prefix, std::size_t size, std::size_t slots)
        : api_(std::move(api)) {
        if (slots == 0) throw PluginApiError("INVALID_REQUEST", "SharedMemoryRing", "a ring needs at least one region");
        for (std::size_t k = 0; k < slots; ++k) {
            slots_.push_back(std::make_unique<Slot>(SharedMemory::Create(prefix + "-" + std::to_string(k), size)));
        }
        for (auto& slot : slots_) slot->thread = std::thread([this, s = slot.get()] { Announce(*s); });
    }

    SharedMemoryRing(const SharedMemoryRing&) = delete;
    SharedMemoryRing& operator=(const SharedMemoryRing&) = delete;

    /** Waits for the announcements in flight (their refusals are dropped: call Flush to see them). */
    ~SharedMemoryRing() {
        for (auto& slot : slots_) {
            {
                std::unique_lock<std::mutex> lock(slot->mutex);
                slot->changed.wait(lock, [&] { return !slot->pending; });
                slot->stopping = true;
            }
            slot->changed.notify_all();
            slot->thread.join();
        }
    }

    /**
     * The next region's buffer, once the host has taken the frame it held. Throws the refusal of
     * that frame's announcement, if it was refused.
     */
    void* Next() {
        Slot& slot = *slots_[next_];
        WaitTaken(slot);
        writing_ = &slot;
        next_ = (next_ + 1) % slots_.size();
        return slot.region->GetBuffer();
    }

    /** Announces the first `size` bytes of the region Next returned, without waiting for the answer. */
    void Publish(std::size_t size) {
        if (writing_ == nullptr) throw PluginApiError("INVALID_REQUEST", "SharedMemoryRing", "Publish without Next");
        if (size > writing_->region->GetSize()) {
            throw PluginApiError("INVALID_REQUEST", "SharedMemoryRing",
                                 std::to_string(size) + " bytes do not fit in region '" +
                                     writing_->region->GetName() + "' (" +
                                     std::to_string(writing_->region->GetSize()) + ")");
        }
        {
            std::lock_guard<std::mutex> lock(writing_->mutex);
            writing_->size = size;
            writing_->pending = true;
        }
        writing_->changed.notify_all();
        writing_ = nullptr;
    }

    /** Waits until the host has taken every frame published; throws the first refusal. */
    void Flush() {
        for (auto& slot : slots_) WaitTaken(*slot);
    }

    std::size_t Slots() const noexcept { return slots_.size(); }
    const SharedMemory& Region(std::size_t k) const { return *slots_.at(k)->region; }

private:
    struct Slot {
        explicit Slot(std::unique_ptr<SharedMemory> r) : region(std::move(r)) {}
        std::unique_ptr<SharedMemory> region;
        std::mutex mutex;
        std::condition_variable changed;
        std::size_t size = 0;
        bool pending = false;  // published, not yet answered
        bool stopping = false;
        std::exception_ptr refused;
        std::thread thread;
    };

    void WaitTaken(Slot& slot) {
        std::unique_lock<std::mutex> lock(slot.mutex);
        slot.changed.wait(lock, [&] { return !slot.pending; });
        if (slot.refused) std::rethrow_exception(std::exchange(slot.refused, nullptr));
    }

    /** The region's thread: announces each frame published into it, one at a time. */
    void Announce(Slot& slot) {
        std::unique_lock<std::mutex> lock(slot.mutex);
        for (;;) {
            slot.changed.wait(lock, [&] { return slot.pending || slot.stopping; });
            if (!slot.pending) return;
            const std::size_t size = slot.size;
            lock.unlock();
            std::exception_ptr refused;
            try {
                api_->NotifySharedMemoryReady(slot.region->GetName(), size);
            } catch (...) {
                refused = std::current_exception();
            }
            lock.lock();
            slot.refused = refused;
            slot.pending = false;
            slot.changed.notify_all();
        }
    }

    std::shared_ptr<PluginAPI> api_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::size_t next_ = 0;
    Slot* writing_ = nullptr;
};

}  // namespace classtop
