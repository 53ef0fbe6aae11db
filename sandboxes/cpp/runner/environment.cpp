#include "environment.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "classtop/exceptions.h"

namespace classtop::runner {

namespace {

const char* const kDefaultCertificate = "/plugin/plugin.crt";

std::string Optional(const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
}

std::string Required(const char* name) {
    std::string value = Optional(name);
    if (value.empty()) {
        throw PluginLoadError(std::string("environment variable ") + name +
                              " is not set; the runner runs inside a classtop-sandbox container");
    }
    return value;
}

std::vector<std::string> Permissions() {
    std::vector<std::string> permissions;
    std::stringstream list(Optional("CLASSTOP_PLUGIN_PERMISSIONS"));
    for (std::string each; std::getline(list, each, ',');) {
        if (!each.empty()) permissions.push_back(each);
    }
    return permissions;
}

/** The certificate's bytes; none when the file is absent (an unsigned plugin). */
std::string Certificate() {
    std::string path = Optional("CLASSTOP_PLUGIN_CERTIFICATE");
    if (path.empty()) path = kDefaultCertificate;
    std::ifstream file(path, std::ios::binary);
    return file ? std::string(std::istreambuf_iterator<char>(file), {}) : std::string();
}

}  // namespace

RunnerSettings ReadSettings() {
    RunnerSettings settings;
    settings.identity.plugin_id = Required("CLASSTOP_PLUGIN_ID");
    settings.identity.plugin_name = Optional("CLASSTOP_PLUGIN_NAME");
    settings.identity.version = Required("CLASSTOP_PLUGIN_VERSION");
    settings.identity.permissions = Permissions();
    settings.identity.certificate = Certificate();
    settings.entry = Required("CLASSTOP_PLUGIN_ENTRY");
    settings.gateway_socket = Required("CLASSTOP_GATEWAY_SOCKET");
    settings.plugin_socket = Required("CLASSTOP_PLUGIN_SOCKET");
    return settings;
}

}  // namespace classtop::runner
