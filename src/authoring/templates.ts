import type { RuntimeType } from '../manifest/index.ts';

/** What `classtop-sandbox init` is told about the plugin it scaffolds. */
export interface PluginSkeleton {
  id: string;
  name: string;
  language: RuntimeType;
}

/** One file of a scaffold: its path inside the plugin directory and its text. */
export interface TemplateFile {
  path: string;
  text: string;
}

/** A C++ class name from the last part of a reverse-DNS id: com.example.frame-grabber → FrameGrabberPlugin. */
function className(id: string): string {
  const last = id.split('.').at(-1) ?? 'plugin';
  const words = last.split(/[-_]/).filter(Boolean);
  return `${words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}Plugin`;
}

/** Appendix B's plugin.yaml: the language says the runtime, so no runtime section is needed. */
function manifest(skeleton: PluginSkeleton): string {
  return `# ${skeleton.name}: appendix B's form. \`classtop-sandbox validate .\` checks it; \`classtop-sandbox sign\`
# signs every file of this directory once it is built.
metadata:
  id: ${skeleton.id}
  name: ${JSON.stringify(skeleton.name)}
  version: 0.1.0
  author: developer@example.com
  description: A new ClassTop plugin.
  language: ${skeleton.language}

permissions:
  - read:courses

certificate:
  required: true
  path: ./plugin.crt
`;
}

function readme(skeleton: PluginSkeleton, steps: string): string {
  return `# ${skeleton.name}

A ClassTop plugin (\`${skeleton.id}\`, ${skeleton.language}).

${steps}
    classtop-sandbox validate .
    classtop-sandbox sign . --key developer.key.pem --cert developer.pem
`;
}

const PYTHON_PLUGIN = `from tauri_app.plugin_system.base import Plugin


class MyPlugin(Plugin):
    """Logs the courses on enable and each schedule update."""

    #: Functions the host may call: \`classtop-sandbox call TENANT/PLUGIN process_data '{...}'\`.
    exports = ["process_data"]

    async def on_enable(self):
        self.plugin_api.log_info("plugin enabled")
        self.plugin_api.on("schedule_update", self.on_schedule_update)
        courses = await self.plugin_api.get_courses()
        self.plugin_api.log_info(f"Total courses: {len(courses)}")

    async def on_disable(self):
        self.plugin_api.off("schedule_update", self.on_schedule_update)
        self.plugin_api.log_info("plugin disabled")

    async def on_schedule_update(self, data):
        self.plugin_api.log_info(f"Schedule updated: {data}")

    async def process_data(self, data: dict) -> dict:
        return {"status": "ok", "received": data}
`;

const NODE_PLUGIN = `import { Plugin } from '@classtop/plugin-sdk';

export default class MyPlugin extends Plugin {
  constructor(api) {
    super(api);
    // Exported: the host calls it with \`classtop-sandbox call TENANT/PLUGIN process_data '{...}'\`.
    this.exportFunction('process_data', (data) => ({ status: 'ok', received: data }));
  }

  async onEnable() {
    const courses = await this.api.getCourses();
    await this.api.logInfo(\`plugin enabled; \${courses.length} course(s)\`);
  }

  async onDisable() {
    await this.api.logInfo('plugin disabled');
  }
}
`;

function cppPlugin(skeleton: PluginSkeleton): string {
  const cls = className(skeleton.id);
  return `#include "classtop/plugin.h"

#include <string>

class ${cls} : public classtop::Plugin {
public:
    ${cls}(std::shared_ptr<classtop::PluginAPI> api) : classtop::Plugin(api) {
        // Exported: the host calls it with \`classtop-sandbox call TENANT/PLUGIN process_data '{...}'\`.
        Export("process_data", [this](const std::string& args_json) { return ProcessData(args_json); });
    }

    void OnEnable() override {
        api_->LogInfo("plugin enabled");
        api_->On("schedule_update", [this](const std::string& data) {
            api_->LogInfo("Schedule updated: " + data);
        });
        auto courses = api_->GetCourses();
        api_->LogInfo("Total courses: " + std::to_string(courses.size()));
    }

    void OnDisable() override { api_->LogInfo("plugin disabled"); }

    std::string GetId() const override { return "${skeleton.id}"; }

private:
    /** JSON text in (the call's argument, "" when none), JSON text out. */
    std::string ProcessData(const std::string& args_json) {
        return "{\\"status\\":\\"ok\\",\\"received\\":" + (args_json.empty() ? std::string("null") : args_json) + "}";
    }
};

CLASSTOP_PLUGIN_EXPORT(${cls})
`;
}

/**
 * Compiles every src/*.cpp into one module named after the manifest's entry (build/plugin.so),
 * against the SDK headers found with pkg-config (gRPC 1.51's CMake files are broken on Debian,
 * and the plugin needs only the SDK's headers: the runner implements PluginAPI).
 */
const CMAKE_LISTS = `cmake_minimum_required(VERSION 3.16)
project(classtop_plugin LANGUAGES CXX)

set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()

find_package(PkgConfig REQUIRED)
pkg_check_modules(CLASSTOP REQUIRED IMPORTED_TARGET classtop-plugin)

file(GLOB PLUGIN_SOURCES CONFIGURE_DEPENDS \${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
add_library(plugin MODULE \${PLUGIN_SOURCES})
target_include_directories(plugin PRIVATE \${CMAKE_CURRENT_SOURCE_DIR}/include)
target_link_libraries(plugin PRIVATE PkgConfig::CLASSTOP)
# Only CLASSTOP_PLUGIN_EXPORT's symbols leave the library.
set_target_properties(plugin PROPERTIES PREFIX "" OUTPUT_NAME plugin
  CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
`;

/** The files `init` writes for each language. */
export function templateFiles(skeleton: PluginSkeleton): TemplateFile[] {
  const files: TemplateFile[] = [{ path: 'plugin.yaml', text: manifest(skeleton) }];
  switch (skeleton.language) {
    case 'python':
      files.push({ path: 'plugin.py', text: PYTHON_PLUGIN }, { path: 'config.json', text: '{}\n' });
      files.push({ path: 'README.md', text: readme(skeleton, 'Edit plugin.py, then:\n') });
      break;
    case 'node':
      files.push({ path: 'index.js', text: NODE_PLUGIN });
      files.push({ path: 'README.md', text: readme(skeleton, 'Edit index.js, then:\n') });
      break;
    case 'cpp':
      files.push({ path: 'CMakeLists.txt', text: CMAKE_LISTS }, { path: 'src/plugin.cpp', text: cppPlugin(skeleton) });
      files.push({
        path: 'README.md',
        text: readme(
          skeleton,
          'Edit src/*.cpp, then build build/plugin.so in the builder image:\n\n    classtop-sandbox build .',
        ),
      });
      break;
  }
  return files;
}
