// What the runner serves to the host on the plugin's socket: Lifecycle (ENABLE with state:
// OnRestore then OnEnable; DISABLE; RELOAD: OnSave; SHUTDOWN) and CallApi for the plugin's
// exported functions (Plugin::Call). A failure is a response with success false, its code in
// error_code and at the start of its message, as the gateway answers plugins. Register,
// SubscribeEvents and CallStream answer UNIMPLEMENTED (the generated base class's).
#pragma once

#include <functional>
#include <mutex>

#include "classtop/plugin.h"
#include "classtop_plugin.grpc.pb.h"

namespace classtop::runner {

class PluginService final : public ::classtop::plugin::ClassTopPluginService::Service {
public:
    PluginService(Plugin& plugin, std::function<void()> on_shutdown)
        : plugin_(plugin), on_shutdown_(std::move(on_shutdown)) {}

    grpc::Status Lifecycle(grpc::ServerContext* context, const ::classtop::plugin::PluginLifecycleRequest* request,
                           ::classtop::plugin::PluginLifecycleResponse* response) override;
    grpc::Status CallApi(grpc::ServerContext* context, const ::classtop::plugin::PluginApiRequest* request,
                         ::classtop::plugin::PluginApiResponse* response) override;

private:
    std::string Run(::classtop::plugin::PluginLifecycleRequest::Action action, const std::string& state);

    Plugin& plugin_;
    std::function<void()> on_shutdown_;
    /** Lifecycle hooks never run at the same time as each other. */
    std::mutex lifecycle_;
};

}  // namespace classtop::runner
