// The plugin's connection to its gateway: Register with the certificate, a fresh session token
// before the old one expires, and host API calls (CallApi), each refusal thrown as the SDK's
// exception. Stock libgrpc++ channel settings: no keepalive pings of its own, only the BDP pings
// gRPC core sends as data arrives, which the gateway's ping policy accepts.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "call_stream.h"
#include "classtop_plugin.grpc.pb.h"

namespace classtop::runner {

namespace pb = ::classtop::plugin;

/** Who the plugin is, from the container environment, as presented at Register. */
struct Identity {
    std::string plugin_id;
    std::string plugin_name;
    std::string version;
    std::vector<std::string> permissions;
    std::string certificate;  // PEM bytes; empty when there is none
};

class Gateway {
public:
    explicit Gateway(const std::string& socket_path);

    /** Registers; returns when (Unix ms) the token expires. Refused: PluginLoadError. */
    std::int64_t Register(const Identity& identity);
    /** Re-registers before each token expires, on a thread of its own, for the process's life. */
    void KeepTokenFresh(const Identity& identity, std::int64_t expires_at_ms);
    /** One host API call; the result's JSON text. Throws PluginApiError / PermissionDeniedError. */
    std::string Call(const std::string& api_name, const std::string& payload_json);
    /** Adds the session token to a call's metadata. */
    void Authorize(grpc::ClientContext& context) const;
    pb::ClassTopPluginService::Stub& Stub() { return *stub_; }

private:
    std::string Token() const;
    CallOutcome CallApi(const pb::PluginApiRequest& request, CallStream::Clock::time_point deadline);

    std::shared_ptr<grpc::Channel> channel_;
    std::unique_ptr<pb::ClassTopPluginService::Stub> stub_;
    CallStream calls_;
    mutable std::mutex mutex_;
    std::string token_;
};

/** The typed exception for a refusal: PermissionDeniedError for PERMISSION_DENIED. */
[[noreturn]] void ThrowApiError(const std::string& code, const std::string& api_name, const std::string& message);

}  // namespace classtop::runner
