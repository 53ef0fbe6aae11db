// The plugin's host API calls, many on one CallStream to the gateway, as the Node SDK makes them:
// a call costs a message each way instead of an HTTP/2 stream of its own. The stream is opened
// with the first call, and again after it fails; calls from any thread share it (one writer at a
// time, one reader thread answering each call by its id). A gateway without CallStream
// (UNIMPLEMENTED) is called with CallApi from then on.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "classtop_plugin.grpc.pb.h"

namespace classtop::runner {

namespace pb = ::classtop::plugin;

/** A call's outcome: the gateway's response, or the status the stream failed with. */
struct CallOutcome {
    grpc::Status status;
    pb::PluginApiResponse response;
    std::string trailer;  // classtop-error-code of a failed stream
};

class CallStream {
public:
    using Clock = std::chrono::system_clock;

    /** `token_metadata` adds the session token to the stream's metadata. */
    CallStream(pb::ClassTopPluginService::Stub& stub, std::function<void(grpc::ClientContext&)> token_metadata)
        : stub_(stub), token_metadata_(std::move(token_metadata)) {}

    /** The outcome of one call; nothing when the gateway offers no CallStream (use CallApi). */
    std::optional<CallOutcome> Call(const pb::PluginApiRequest& request, Clock::time_point deadline);

private:
    struct Stream {
        grpc::ClientContext context;
        std::unique_ptr<grpc::ClientReaderWriter<pb::PluginApiCall, pb::PluginApiResult>> calls;
        std::mutex write_mutex;
        bool closed = false;  // with write_mutex held: no write after WritesDone
    };

    std::shared_ptr<Stream> Connected();  // with mutex_ held
    void ReadAnswers(std::shared_ptr<Stream> stream);
    void FailAll(const CallOutcome& outcome);  // with mutex_ held
    std::optional<std::promise<CallOutcome>> Settle(std::uint32_t id);

    pb::ClassTopPluginService::Stub& stub_;
    std::function<void(grpc::ClientContext&)> token_metadata_;
    std::mutex mutex_;
    std::shared_ptr<Stream> stream_;
    std::map<std::uint32_t, std::promise<CallOutcome>> waiting_;
    std::uint32_t last_id_ = 0;
    bool unsupported_ = false;
};

}  // namespace classtop::runner
