// The plugin's library: its SDK ABI read from the file before anything of it runs, then dlopen
// (RTLD_NOW | RTLD_LOCAL) and the factory. Never dlclosed: a reload is a new container.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "classtop/plugin.h"

namespace classtop::runner {

/** The reason code of a refused ABI, at the start of the PluginLoadError's message. */
extern const char* const kAbiMismatch;
/** The symbol CLASSTOP_PLUGIN_EXPORT defines with the ABI version (printed by --contract). */
extern const char* const kAbiSymbol;

/** {major, minor}, as CLASSTOP_PLUGIN_EXPORT writes it. */
using AbiVersion = classtop_plugin_abi;

/**
 * The ABI the library at `path` was built for: classtop_plugin_abi_version read from its ELF
 * dynamic symbol table and its section's bytes, without loading it (a library's constructors run
 * at dlopen). Throws PluginLoadError with kAbiMismatch when there is no such symbol.
 */
AbiVersion ReadAbiVersion(const std::string& path);

/** Refuses (PluginLoadError, kAbiMismatch, found and needed) an ABI this runner cannot serve. */
void CheckAbi(const std::string& path, AbiVersion found);

/** Checks the ABI, loads the library and creates the plugin through its CreatePlugin. */
Plugin* LoadPlugin(const std::string& path, std::shared_ptr<PluginAPI> api);

}  // namespace classtop::runner
