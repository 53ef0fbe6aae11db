#include "plugin_library.h"

#include <dlfcn.h>
#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "classtop/exceptions.h"

namespace classtop::runner {

const char* const kAbiMismatch = "PLUGIN_ABI_MISMATCH";
const char* const kAbiSymbol = "classtop_plugin_abi_version";

namespace {

const char* const kFactorySymbol = "CreatePlugin";
/** A plugin library is a few MB; this bounds what is read to find its ABI symbol. */
constexpr std::size_t kMaxLibraryBytes = std::size_t{1} << 30;

std::string Needed() {
    return std::to_string(CLASSTOP_PLUGIN_ABI_MAJOR) + ".0 to " + std::to_string(CLASSTOP_PLUGIN_ABI_MAJOR) + "." +
           std::to_string(CLASSTOP_PLUGIN_ABI_MINOR);
}

[[noreturn]] void Refuse(const std::string& path, const std::string& found) {
    throw PluginLoadError(std::string(kAbiMismatch) + ": " + path + " " + found + "; this runner serves SDK ABI " +
                          Needed() + ": rebuild the plugin against this image's SDK (classtop/sandbox-cpp-builder)");
}

std::vector<char> ReadFile(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw PluginLoadError("cannot open the plugin library " + path + ": " + std::strerror(errno));
    file.seekg(0, std::ios::end);
    auto size = static_cast<std::size_t>(file.tellg());
    if (size > kMaxLibraryBytes) throw PluginLoadError(path + " is larger than 1 GiB; is it a plugin library?");
    std::vector<char> bytes(size);
    file.seekg(0);
    file.read(bytes.data(), static_cast<std::streamsize>(size));
    return bytes;
}

/** A T at `offset` of `bytes`, or nullptr when it does not fit. */
template <typename T>
const T* At(const std::vector<char>& bytes, std::uint64_t offset, std::uint64_t count = 1) {
    if (offset > bytes.size() || count > (bytes.size() - offset) / sizeof(T)) return nullptr;
    return reinterpret_cast<const T*>(bytes.data() + offset);
}

}  // namespace

AbiVersion ReadAbiVersion(const std::string& path) {
    const std::vector<char> bytes = ReadFile(path);
    const auto* header = At<Elf64_Ehdr>(bytes, 0);
    if (header == nullptr || std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 ||
        header->e_ident[EI_CLASS] != ELFCLASS64 || header->e_type != ET_DYN ||
        header->e_shentsize != sizeof(Elf64_Shdr)) {
        throw PluginLoadError(path + " is not a 64-bit ELF shared library; build it with -shared -fPIC");
    }
    const auto* sections = At<Elf64_Shdr>(bytes, header->e_shoff, header->e_shnum);
    if (sections == nullptr) throw PluginLoadError(path + ": its ELF section headers are cut short");
    for (std::uint16_t i = 0; i < header->e_shnum; ++i) {
        const Elf64_Shdr& table = sections[i];
        if (table.sh_type != SHT_DYNSYM || table.sh_link >= header->e_shnum) continue;
        const Elf64_Shdr& names = sections[table.sh_link];
        const auto* symbols = At<Elf64_Sym>(bytes, table.sh_offset, table.sh_size / sizeof(Elf64_Sym));
        if (symbols == nullptr) break;
        for (std::uint64_t s = 0; s < table.sh_size / sizeof(Elf64_Sym); ++s) {
            const Elf64_Sym& symbol = symbols[s];
            if (symbol.st_name >= names.sh_size || symbol.st_shndx == SHN_UNDEF || symbol.st_shndx >= header->e_shnum)
                continue;
            const char* name = At<char>(bytes, names.sh_offset + symbol.st_name);
            const std::size_t room = names.sh_size - symbol.st_name;
            if (name == nullptr || strnlen(name, room) == room || std::strcmp(name, kAbiSymbol) != 0) continue;
            if (symbol.st_size < sizeof(AbiVersion)) Refuse(path, "has a classtop_plugin_abi_version too small");
            const Elf64_Shdr& home = sections[symbol.st_shndx];
            if (home.sh_type == SHT_NOBITS) return AbiVersion{0, 0};  // zero-initialised
            const auto* found = At<AbiVersion>(bytes, home.sh_offset + (symbol.st_value - home.sh_addr));
            if (found == nullptr) Refuse(path, "has a classtop_plugin_abi_version outside its file");
            return *found;
        }
    }
    Refuse(path, "exports no classtop_plugin_abi_version (it was not built with CLASSTOP_PLUGIN_EXPORT of this SDK)");
}

void CheckAbi(const std::string& path, AbiVersion found) {
    if (found.major == CLASSTOP_PLUGIN_ABI_MAJOR && found.minor <= CLASSTOP_PLUGIN_ABI_MINOR) return;
    Refuse(path, "was built for SDK ABI " + std::to_string(found.major) + "." + std::to_string(found.minor));
}

Plugin* LoadPlugin(const std::string& path, std::shared_ptr<PluginAPI> api) {
    CheckAbi(path, ReadAbiVersion(path));
    void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) throw PluginLoadError(std::string("cannot load the plugin library: ") + dlerror());
    auto create = reinterpret_cast<CreatePluginFunc>(dlsym(library, kFactorySymbol));
    if (create == nullptr) {
        throw PluginLoadError(path + " exports no CreatePlugin; end one source file with CLASSTOP_PLUGIN_EXPORT(YourPlugin)");
    }
    Plugin* plugin = create(std::move(api));
    if (plugin == nullptr) throw PluginLoadError(path + ": CreatePlugin returned no plugin");
    return plugin;
}

}  // namespace classtop::runner
