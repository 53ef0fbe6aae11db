#include "call_stream.h"

#include <thread>

#include "contract.h"

namespace classtop::runner {

namespace {

/** The gateway answers every call by its deadline; this much later, the runner stops waiting. */
constexpr auto kAnswerGrace = std::chrono::seconds(1);

std::int64_t UnixMs(CallStream::Clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

}  // namespace

std::optional<CallOutcome> CallStream::Call(const pb::PluginApiRequest& request, Clock::time_point deadline) {
    std::future<CallOutcome> answer;
    std::shared_ptr<Stream> stream;
    pb::PluginApiCall call;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (unsupported_) return std::nullopt;
        last_id_ = last_id_ == UINT32_MAX ? 1 : last_id_ + 1;
        call.set_id(last_id_);
        answer = waiting_[last_id_].get_future();
        stream = Connected();
    }
    *call.mutable_request() = request;
    call.set_deadline_ms(UnixMs(deadline));
    {
        std::lock_guard<std::mutex> lock(stream->write_mutex);
        // A closed or failed stream's reader fails every waiting call, this one too.
        if (!stream->closed) stream->calls->Write(call);
    }
    if (answer.wait_until(deadline + kAnswerGrace) == std::future_status::ready) {
        CallOutcome outcome = answer.get();
        if (outcome.status.error_code() == grpc::StatusCode::UNIMPLEMENTED) return std::nullopt;
        return outcome;
    }
    Settle(call.id());
    return CallOutcome{grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the gateway did not answer in time"), {}, ""};
}

std::shared_ptr<CallStream::Stream> CallStream::Connected() {
    if (stream_) return stream_;
    auto stream = std::make_shared<Stream>();
    token_metadata_(stream->context);
    stream->calls = stub_.CallStream(&stream->context);
    stream_ = stream;
    // Detached: it ends with its stream, and the runner never unloads.
    std::thread([this, stream] { ReadAnswers(stream); }).detach();
    return stream;
}

void CallStream::ReadAnswers(std::shared_ptr<Stream> stream) {
    pb::PluginApiResult result;
    while (stream->calls->Read(&result)) {
        if (auto waiting = Settle(result.id())) {
            CallOutcome outcome{grpc::Status::OK, result.response(), ""};
            if (!result.has_response()) {
                outcome.status = grpc::Status(grpc::StatusCode::INTERNAL, "the gateway answered a call without a response");
            }
            waiting->set_value(std::move(outcome));
        }
    }
    {
        std::lock_guard<std::mutex> lock(stream->write_mutex);
        stream->closed = true;
        stream->calls->WritesDone();
    }
    CallOutcome ended{stream->calls->Finish(), {}, ""};
    const auto& trailers = stream->context.GetServerTrailingMetadata();
    auto trailer = trailers.find(kErrorCodeMetadataKey);
    if (trailer != trailers.end()) ended.trailer.assign(trailer->second.data(), trailer->second.size());
    if (ended.status.ok()) ended.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway ended the call stream");
    std::lock_guard<std::mutex> lock(mutex_);
    if (stream_ == stream) stream_.reset();  // the next call opens a new one
    if (ended.status.error_code() == grpc::StatusCode::UNIMPLEMENTED) unsupported_ = true;
    FailAll(ended);
}

void CallStream::FailAll(const CallOutcome& outcome) {
    for (auto& [id, waiting] : waiting_) waiting.set_value(outcome);
    waiting_.clear();
}

std::optional<std::promise<CallOutcome>> CallStream::Settle(std::uint32_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = waiting_.find(id);
    if (found == waiting_.end()) return std::nullopt;
    std::promise<CallOutcome> waiting = std::move(found->second);
    waiting_.erase(found);
    return waiting;
}

}  // namespace classtop::runner
