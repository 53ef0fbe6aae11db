import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadManifest, ManifestError, MANIFEST_FILE, NO_OPERATOR_LIMITS } from '../../manifest/index.ts';
import { CPP_PLUGIN_ABI } from '../../protocol/index.ts';
import { resultsOf, type CheckLocation, type CheckResult } from '../check-result.ts';
import { ElfSymbolError, readDynamicSymbol } from './elf-dynamic-symbol.ts';
import type { StaticCheck, StaticContext } from './static-check.ts';

/** classtop_plugin_abi: two uint32, major then minor. */
const ABI_BYTES = 8;
/** The runner's own reason for a library it will not load (sandboxes/cpp/runner/plugin_library.cpp). */
const ABI_MISMATCH = 'PLUGIN_ABI_MISMATCH';

const r = resultsOf('cpp-abi', 'static');
const served = `${CPP_PLUGIN_ABI.major}.0 to ${CPP_PLUGIN_ABI.major}.${CPP_PLUGIN_ABI.minor}`;
const rebuild = 'rebuild it with `classtop-sandbox build` (the builder image has the runner’s SDK)';

/**
 * A C++ plugin's library is built for the SDK ABI the runner serves: its
 * `classtop_plugin_abi_version` read from the ELF file, never loaded (its constructors would run),
 * against the runner's numbers (plugin.h's, through the generated contract). The runner refuses
 * the same library with PLUGIN_ABI_MISMATCH before running any of its code.
 */
export const cppAbiCheck: StaticCheck = {
  name: 'cpp-abi',
  async run(ctx): Promise<CheckResult[]> {
    const m = ctx.manifest;
    if (!m)
      return [notBuilt(ctx) ?? r.skipped('ABI_NOT_CHECKED', 'C++ ABI not checked', `${MANIFEST_FILE} is invalid`)];
    if (m.runtime !== 'cpp') return [r.ok('NOT_CPP', 'no C++ library to check', `a ${m.runtime} plugin`)];
    const where: CheckLocation = { file: m.entry };
    let bytes: Buffer;
    try {
      bytes = await readDynamicSymbol(path.join(ctx.root, m.entry), CPP_PLUGIN_ABI.symbol, ABI_BYTES);
    } catch (err) {
      if (!(err instanceof ElfSymbolError)) throw err;
      return [refused(err, m.entry, where)];
    }
    const found = { major: bytes.readUInt32LE(0), minor: bytes.readUInt32LE(4) };
    const version = `${found.major}.${found.minor}`;
    if (found.major === CPP_PLUGIN_ABI.major && found.minor <= CPP_PLUGIN_ABI.minor)
      return [r.ok('ABI_COMPATIBLE', `built for SDK ABI ${version}`, `the runner serves SDK ABI ${served}`, where)];
    return [
      r.error(
        ABI_MISMATCH,
        `built for SDK ABI ${version}, the runner serves ${served}`,
        `${m.entry} was built for SDK ABI ${version}; this runner serves SDK ABI ${served}: the runner would refuse it; ${rebuild}`,
        where,
      ),
    ];
  },
};

function refused(err: ElfSymbolError, entry: string, where: CheckLocation): CheckResult {
  if (err.reason === 'NOT_A_LIBRARY')
    return r.error(
      'NOT_A_LIBRARY',
      `${entry} is not a plugin library`,
      `${entry} ${err.message}; build it with -shared -fPIC, or ${rebuild}`,
      where,
    );
  const detail =
    `${entry} ${err.message}: it was not built with CLASSTOP_PLUGIN_EXPORT of this SDK, and the runner would ` +
    `refuse it (${ABI_MISMATCH}); end one source file with CLASSTOP_PLUGIN_EXPORT(YourPlugin) and ${rebuild}`;
  return r.error(`ABI_${err.reason}`, `${entry} has no usable SDK ABI version`, detail, where);
}

/** A C++ plugin whose library does not exist yet: the manifest is invalid only for that. */
function notBuilt(ctx: StaticContext): CheckResult | undefined {
  try {
    const m = loadManifest(ctx.root, NO_OPERATOR_LIMITS, { entryMayBeMissing: true });
    if (m.runtime !== 'cpp' || existsSync(path.join(ctx.root, m.entry))) return undefined;
    const line = ctx.manifestLine('runtime.entry') ?? ctx.manifestLine('metadata.language');
    return r.error(
      'CPP_NOT_BUILT',
      `${m.entry} is not built yet`,
      `${m.entry} does not exist: run \`classtop-sandbox build DIR\` on the plugin's directory (it compiles the plugin in the builder image), then verify again`,
      { file: MANIFEST_FILE, ...(line ? { line } : {}) },
    );
  } catch (err) {
    if (err instanceof ManifestError) return undefined;
    throw err;
  }
}
