// The image's HEALTHCHECK (`classtop-cpp-runner --healthcheck`): a real gRPC call to the plugin's
// own socket, as the orchestrator's health ping makes it: CallApi of a reserved name no plugin
// exports. An answer (success, or the NOT_FOUND refusal) proves the plugin's gRPC server is
// alive; no socket, no answer in time, or a gRPC error is unhealthy (exit 1).
#pragma once

namespace classtop::runner {

int ProbeHealth();

}  // namespace classtop::runner
