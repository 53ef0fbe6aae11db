#include "health_probe.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "classtop_plugin.grpc.pb.h"

namespace classtop::runner {

namespace {

const char* const kDefaultSocket = "/run/classtop/plugin.sock";
const char* const kHealthFunction = "__classtop_health__";
/** Below Docker's own timeout, so that the probe says why it failed. */
constexpr auto kTimeout = std::chrono::seconds(3);

}  // namespace

int ProbeHealth() {
    const char* configured = std::getenv("CLASSTOP_PLUGIN_SOCKET");
    const std::string socket = configured != nullptr && *configured != '\0' ? configured : kDefaultSocket;
    auto channel = grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
    auto stub = ::classtop::plugin::ClassTopPluginService::NewStub(channel);
    ::classtop::plugin::PluginApiRequest request;
    request.set_api_name(kHealthFunction);
    ::classtop::plugin::PluginApiResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kTimeout);
    grpc::Status status = stub->CallApi(&context, request, &response);
    if (status.ok()) return 0;
    std::cerr << "unhealthy: " << socket << ": CallApi answered " << status.error_code() << ": "
              << status.error_message() << std::endl;
    return 1;
}

}  // namespace classtop::runner
