#include "plugin_service.h"

#include "classtop/exceptions.h"
#include "contract.h"

namespace classtop::runner {

namespace pb = ::classtop::plugin;
using Action = pb::PluginLifecycleRequest;

namespace {

/** A plugin's failure as the host reads it: its code, and a message starting with the code. */
struct Failure {
    std::string code;
    std::string message;
};

/** The failure an exception thrown by the plugin means; anything else than std::exception crashes. */
Failure Describe(const std::string& what_failed, const std::exception& err) {
    if (const auto* api = dynamic_cast<const PluginApiError*>(&err)) {
        return {api->code(), RefusalText(api->code(), err.what())};
    }
    return {"INTERNAL_ERROR", RefusalText("INTERNAL_ERROR", what_failed + " failed in the plugin: " + err.what())};
}

pb::PluginErrorCode CodeNumber(const std::string& name) {
    pb::PluginErrorCode code = pb::UNKNOWN_ERROR;
    return pb::PluginErrorCode_Parse(name, &code) ? code : pb::UNKNOWN_ERROR;
}

}  // namespace

std::string PluginService::Run(Action::Action action, const std::string& state) {
    std::lock_guard<std::mutex> lock(lifecycle_);
    switch (action) {
        case Action::ENABLE:
            if (!state.empty()) plugin_.OnRestore(state);
            plugin_.OnEnable();
            return "";
        case Action::DISABLE:
            plugin_.OnDisable();
            return "";
        case Action::RELOAD:
            return plugin_.OnSave();
        default:
            return "";
    }
}

grpc::Status PluginService::Lifecycle(grpc::ServerContext*, const pb::PluginLifecycleRequest* request,
                                      pb::PluginLifecycleResponse* response) {
    const std::string action = Action::Action_Name(request->action());
    try {
        response->set_saved_state(Run(request->action(), request->state_data()));
    } catch (const std::exception& err) {
        Failure failure = Describe(action, err);
        response->set_success(false);
        response->set_message(failure.message);
        response->set_error_code(CodeNumber(failure.code));
        return grpc::Status::OK;
    }
    response->set_success(true);
    response->set_message(action + " done");
    // Shutting the server down lets this answer leave first; then the runner exits.
    if (request->action() == Action::SHUTDOWN) on_shutdown_();
    return grpc::Status::OK;
}

grpc::Status PluginService::CallApi(grpc::ServerContext*, const pb::PluginApiRequest* request,
                                    pb::PluginApiResponse* response) {
    try {
        response->set_result(plugin_.Call(request->api_name(), request->payload()));
        response->set_success(true);
    } catch (const std::exception& err) {
        Failure failure = Describe(request->api_name(), err);
        response->set_success(false);
        response->set_error_message(failure.message);
        response->set_error_code(CodeNumber(failure.code));
    }
    return grpc::Status::OK;
}

}  // namespace classtop::runner
