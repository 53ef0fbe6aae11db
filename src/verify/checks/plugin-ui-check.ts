import { existsSync } from 'node:fs';
import path from 'node:path';
import { resultsOf, type CheckResult } from '../check-result.ts';
import type { StaticCheck } from './static-check.ts';

/** The file a plugin's UI is loaded from (specification, appendix A's layout). */
export const PLUGIN_UI_FILE = 'plugin_ui.js';

/**
 * A plugin's UI is code the host loads: it must be covered by the signature like every other file.
 * plugin.yaml has no UI field yet, so the check is on the file itself; when one is added, the
 * declared file must be present too.
 */
export const pluginUiCheck: StaticCheck = {
  name: 'plugin-ui',
  run(ctx): CheckResult[] {
    const r = resultsOf('plugin-ui', 'static');
    const where = { file: PLUGIN_UI_FILE };
    if (!existsSync(path.join(ctx.root, PLUGIN_UI_FILE)))
      return [r.ok('NO_UI', 'no plugin UI', `there is no ${PLUGIN_UI_FILE}`)];
    const outcome = ctx.signature;
    if (outcome?.kind === 'signed') {
      return Object.hasOwn(outcome.bundle.payload.files, PLUGIN_UI_FILE)
        ? [r.ok('UI_SIGNED', `${PLUGIN_UI_FILE} is covered by the signature`, 'its SHA-256 is signed', where)]
        : [
            r.error(
              'UI_NOT_SIGNED',
              `${PLUGIN_UI_FILE} is not covered by the signature`,
              'sign the plugin again',
              where,
            ),
          ];
    }
    if (outcome?.kind === 'refused' && outcome.error.files.includes(PLUGIN_UI_FILE))
      return [
        r.error('UI_NOT_SIGNED', `${PLUGIN_UI_FILE} is not covered by the signature`, outcome.error.detail, where),
      ];
    if (outcome?.kind === 'unsigned')
      return [
        r.error('UI_NOT_SIGNED', `${PLUGIN_UI_FILE} is not covered by a signature`, 'the plugin is unsigned', where),
      ];
    return [r.skipped('UI_NOT_CHECKED', `${PLUGIN_UI_FILE} not checked`, 'there is no valid signature', where)];
  },
};
