/**
 * The ClassTop version whose plugin host API the reference host (src/host, and the catalogue in
 * this folder) implements: the plugin system of ClassTop 2, which the specification's appendix B
 * asks for (`classtop_version: ">=2.0.0"`). A plugin's `dependencies.classtop_version` range is
 * checked against it before the plugin starts. An operator whose own host implements another
 * version says so in the config (`upstream.classtopVersion`, or a tenant's `upstream.classtopVersion`).
 */
export const CLASSTOP_HOST_VERSION = '2.0.0';
