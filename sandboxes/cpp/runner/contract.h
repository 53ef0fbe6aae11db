// The runner's copy of the protocol contract (src/protocol/generated/contract.json): the error
// codes and their gRPC status, the container environment, the host API method table, and the SDK
// ABI it serves (plugin.h's CLASSTOP_PLUGIN_ABI_MAJOR/MINOR, as contract.json's cppPluginAbi). The
// runner ships alone in its image, so it carries its own copy; `classtop-cpp-runner --contract`
// prints it, and test/e2e/cpp-plugins.test.ts checks it against contract.json. The protocol
// version is read from proto/classtop_plugin.proto at build time (CMakeLists.txt).
#pragma once

#include <string>
#include <vector>

namespace classtop::runner {

extern const char* const kProtocolVersion;
/** The trailing metadata key that names a refused stream's PluginErrorCode. */
extern const char* const kErrorCodeMetadataKey;
/** Where the session token travels: gRPC metadata, and PluginApiRequest.metadata. */
extern const char* const kTokenKey;

struct ErrorCode {
    const char* name;
    int grpc_status;
};
extern const std::vector<ErrorCode> kErrorCodes;

struct ContainerEnvVar {
    const char* name;
    bool required;
};
extern const std::vector<ContainerEnvVar> kContainerEnv;

/** A host API: its wire name, the PluginAPI method that calls it, the permission it needs. */
struct HostApiMethod {
    const char* api_name;
    const char* method;
    const char* permission;  // nullptr: none
};
extern const std::vector<HostApiMethod> kHostApiMethods;

/** A failed response's message: the code's name first, as the gateway writes it. */
std::string RefusalText(const std::string& code, const std::string& message);
/** The reason alone: the typed error carries the code. */
std::string WithoutCode(const std::string& message, const std::string& code);
/** The PluginErrorCode of a failed RPC: its trailer when it names one, else by gRPC status. */
std::string CodeOfStatus(int grpc_status, const std::string& trailer);

/** Prints the contract as JSON (for --contract), each method's wire name found by calling it. */
void PrintContract();

}  // namespace classtop::runner
