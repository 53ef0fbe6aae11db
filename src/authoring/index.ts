export { BUILD_LABEL, buildPlugin, DEFAULT_CPP_BUILDER_IMAGE, type BuildOptions } from './build-plugin.ts';
export { initPlugin } from './init-plugin.ts';
export { templateFiles, type PluginSkeleton, type TemplateFile } from './templates.ts';
