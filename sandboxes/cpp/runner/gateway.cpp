#include "gateway.h"

#include <chrono>
#include <iostream>
#include <thread>

#include "classtop/exceptions.h"
#include "contract.h"

namespace classtop::runner {

namespace {

constexpr auto kRegisterTimeout = std::chrono::seconds(10);
constexpr auto kCallTimeout = std::chrono::seconds(30);
constexpr auto kMinRefreshDelay = std::chrono::seconds(1);
/** Re-register when this fraction of the session token's lifetime has passed. */
constexpr double kTokenRefreshAt = 0.8;

std::int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string Trailer(const grpc::ClientContext& context) {
    const auto& trailers = context.GetServerTrailingMetadata();
    auto found = trailers.find(kErrorCodeMetadataKey);
    return found == trailers.end() ? std::string() : std::string(found->second.data(), found->second.size());
}

}  // namespace

[[noreturn]] void ThrowApiError(const std::string& code, const std::string& api_name, const std::string& message) {
    bool known = false;
    for (const auto& entry : kErrorCodes) known = known || (code == entry.name && code != "OK");
    const std::string typed = known ? code : "UNKNOWN_ERROR";
    std::string reason = WithoutCode(message, code);
    if (reason.empty()) reason = api_name + " failed";
    if (typed == "PERMISSION_DENIED") throw PermissionDeniedError(api_name, reason);
    throw PluginApiError(typed, api_name, reason);
}

Gateway::Gateway(const std::string& socket_path)
    : channel_(grpc::CreateChannel("unix:" + socket_path, grpc::InsecureChannelCredentials())),
      stub_(pb::ClassTopPluginService::NewStub(channel_)),
      calls_(*stub_, [this](grpc::ClientContext& context) { Authorize(context); }) {}

std::int64_t Gateway::Register(const Identity& identity) {
    pb::PluginRegisterRequest request;
    request.set_plugin_id(identity.plugin_id);
    request.set_plugin_name(identity.plugin_name);
    request.set_version(identity.version);
    for (const auto& permission : identity.permissions) request.add_permissions(permission);
    request.set_certificate(identity.certificate);
    // The gateway refuses an SDK whose protocol major is older than its own, saying so.
    request.set_sdk_protocol_version(kProtocolVersion);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kRegisterTimeout);
    // Waits for the gateway's socket rather than failing at once while it is being set up.
    context.set_wait_for_ready(true);
    pb::PluginRegisterResponse response;
    grpc::Status status = stub_->Register(&context, request, &response);
    if (!status.ok()) {
        throw PluginLoadError("Register failed: " + std::to_string(status.error_code()) + ": " +
                              status.error_message());
    }
    if (!response.success()) throw PluginLoadError("Register was refused: " + response.message());
    std::lock_guard<std::mutex> lock(mutex_);
    token_ = response.session_token();
    return response.token_expires_at_ms();
}

void Gateway::KeepTokenFresh(const Identity& identity, std::int64_t expires_at_ms) {
    std::thread([this, identity, expires_at_ms]() mutable {
        for (;;) {
            auto delay = std::chrono::milliseconds(
                static_cast<std::int64_t>(static_cast<double>(expires_at_ms - NowMs()) * kTokenRefreshAt));
            std::this_thread::sleep_for(std::max<std::chrono::milliseconds>(delay, kMinRefreshDelay));
            try {
                expires_at_ms = Register(identity);
            } catch (const PluginLoadError& err) {
                std::cerr << "[classtop-sdk] token refresh failed: " << err.what() << std::endl;
            }
        }
    }).detach();
}

std::string Gateway::Token() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return token_;
}

void Gateway::Authorize(grpc::ClientContext& context) const { context.AddMetadata(kTokenKey, Token()); }

std::string Gateway::Call(const std::string& api_name, const std::string& payload_json) {
    pb::PluginApiRequest request;
    request.set_api_name(api_name);
    request.set_payload(payload_json);
    (*request.mutable_metadata())[kTokenKey] = Token();
    const auto deadline = std::chrono::system_clock::now() + kCallTimeout;
    std::optional<CallOutcome> streamed = calls_.Call(request, deadline);
    CallOutcome outcome = streamed ? std::move(*streamed) : CallApi(request, deadline);
    if (!outcome.status.ok()) {
        const grpc::Status& status = outcome.status;
        const std::string details = status.error_message().empty() ? "gRPC status " + std::to_string(status.error_code())
                                                                   : status.error_message();
        ThrowApiError(CodeOfStatus(status.error_code(), outcome.trailer), api_name, details);
    }
    if (!outcome.response.success()) {
        ThrowApiError(pb::PluginErrorCode_Name(outcome.response.error_code()), api_name,
                      outcome.response.error_message());
    }
    return outcome.response.result();
}

CallOutcome Gateway::CallApi(const pb::PluginApiRequest& request, CallStream::Clock::time_point deadline) {
    grpc::ClientContext context;
    Authorize(context);
    context.set_deadline(deadline);
    CallOutcome outcome;
    outcome.status = stub_->CallApi(&context, request, &outcome.response);
    if (!outcome.status.ok()) outcome.trailer = Trailer(context);
    return outcome;
}

}  // namespace classtop::runner
