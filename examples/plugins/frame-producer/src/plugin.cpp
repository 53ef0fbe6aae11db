// Frame Producer: streams 1920×1080×3 frames to the host through shared memory, exactly as the
// specification's "共享内存 (C++ 插件)" example does:
//
//   auto shm = classtop::SharedMemory::Create("image_data", 1920*1080*3);
//   memcpy(shm->GetBuffer(), image.data(), image.size());
//   api_->NotifySharedMemoryReady("image_data", image.size());
//
// The host calls the exported `stream_frames` ({"frames": N}, at most kMaxFramesPerCall): frame n
// (0 ≤ n < N) is written into the region and announced; the announcement returns once the host's
// consumers have taken it, so the next frame never overwrites one being read. Byte i of frame n is
// (i * 7 + n) % 251, which a consumer can check. The number of frames streamed so far is kept
// across a hot reload (OnSave / OnRestore).
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "classtop/exceptions.h"
#include "classtop/plugin.h"
#include "classtop/shared_memory.h"

using nlohmann::json;

namespace {

constexpr std::size_t kWidth = 1920;
constexpr std::size_t kHeight = 1080;
constexpr std::size_t kChannels = 3;
constexpr std::size_t kFrameBytes = kWidth * kHeight * kChannels;
/** Bounds one call: 300 frames is 1.9 GB through the region, seconds at most. */
constexpr int kMaxFramesPerCall = 300;
/** The pattern's period: a prime, so that no two of the first 251 frames are alike. */
constexpr unsigned kPatternModulus = 251;

/** Frame n of the stream: byte i is (i * 7 + n) % 251. */
void Paint(std::vector<std::uint8_t>& image, unsigned n) {
    for (std::size_t i = 0; i < image.size(); ++i) {
        image[i] = static_cast<std::uint8_t>((i * 7 + n) % kPatternModulus);
    }
}

}  // namespace

class FrameProducer : public classtop::Plugin {
public:
    FrameProducer(std::shared_ptr<classtop::PluginAPI> api) : classtop::Plugin(api), image_(kFrameBytes) {
        Export("stream_frames", [this](const std::string& args) { return StreamFrames(args); });
    }

    void OnEnable() override {
        api_->LogInfo("frame-producer enabled: " + std::to_string(kWidth) + "x" + std::to_string(kHeight) + "x" +
                      std::to_string(kChannels) + " frames on demand (stream_frames); " +
                      std::to_string(streamed_) + " streamed so far");
    }

    void OnDisable() override { api_->LogInfo("frame-producer disabled"); }

    std::string OnSave() override {
        std::lock_guard<std::mutex> lock(mutex_);
        return json{{"streamed", streamed_}}.dump();
    }

    void OnRestore(const std::string& state) override {
        std::lock_guard<std::mutex> lock(mutex_);
        streamed_ = json::parse(state).value("streamed", 0);
    }

    std::string GetId() const override { return "com.example.frame-producer"; }

private:
    /** {"frames": N} → {"name", "size", "frames", "streamed", "ms"}; one stream at a time. */
    std::string StreamFrames(const std::string& args_json) {
        const json args = args_json.empty() ? json::object() : json::parse(args_json, nullptr, false);
        const int frames = args.is_object() ? args.value("frames", 1) : -1;
        if (frames < 1 || frames > kMaxFramesPerCall) {
            throw classtop::PluginApiError("INVALID_REQUEST", "stream_frames",
                                           "frames must be 1 to " + std::to_string(kMaxFramesPerCall) +
                                               ", in {\"frames\": N}; got " + args_json);
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (!shm_) shm_ = classtop::SharedMemory::Create("image_data", kFrameBytes);
        const auto started = std::chrono::steady_clock::now();
        for (int n = 0; n < frames; ++n) {
            Paint(image_, static_cast<unsigned>(n));
            std::memcpy(shm_->GetBuffer(), image_.data(), image_.size());
            api_->NotifySharedMemoryReady("image_data", image_.size());
        }
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
        streamed_ += frames;
        api_->LogInfo("streamed " + std::to_string(frames) + " frame(s) of " + std::to_string(kFrameBytes) +
                      " bytes in " + std::to_string(ms) + " ms");
        return json{{"name", shm_->GetName()},
                    {"size", kFrameBytes},
                    {"frames", frames},
                    {"streamed", streamed_},
                    {"ms", ms}}
            .dump();
    }

    std::mutex mutex_;
    std::unique_ptr<classtop::SharedMemory> shm_;
    std::vector<std::uint8_t> image_;
    int streamed_ = 0;
};

CLASSTOP_PLUGIN_EXPORT(FrameProducer)
