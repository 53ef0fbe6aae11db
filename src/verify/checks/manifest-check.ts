import { MANIFEST_FILE } from '../../manifest/index.ts';
import { resultsOf, type CheckResult } from '../check-result.ts';
import type { StaticCheck, StaticContext } from './static-check.ts';

/** The field a ManifestError problem names: the text before its first ': '. */
function fieldOf(problem: string): string {
  return problem.slice(0, Math.max(0, problem.indexOf(': ')));
}

/** plugin.yaml against the schema (the orchestrator's loadManifest), every problem with its line. */
export const manifestCheck: StaticCheck = {
  name: 'manifest',
  run(ctx): CheckResult[] {
    const r = resultsOf('manifest', 'static');
    const m = ctx.manifest;
    if (m) {
      const detail = `${m.id}@${m.version} (${m.runtime}, entry ${m.entry}); ${m.verify?.calls.length ?? 0} verify call(s)`;
      return [r.ok('MANIFEST_VALID', `${MANIFEST_FILE} is valid`, detail, { file: MANIFEST_FILE })];
    }
    return ctx.manifestProblems.map((problem) =>
      r.error('MANIFEST_INVALID', `${MANIFEST_FILE}: ${fieldOf(problem) || 'invalid'}`, problem, {
        file: MANIFEST_FILE,
        ...lineOf(ctx, fieldOf(problem)),
      }),
    );
  },
};

function lineOf(ctx: StaticContext, field: string): { line?: number } {
  const line = field && !field.startsWith('(') ? ctx.manifestLine(field) : undefined;
  return line ? { line } : {};
}
