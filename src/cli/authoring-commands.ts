import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildPlugin, DEFAULT_CPP_BUILDER_IMAGE, initPlugin } from '../authoring/index.ts';
import { loadConfig } from '../config/index.ts';
import { SandboxError } from '../errors/index.ts';
import { loadManifest, NO_OPERATOR_LIMITS, type RuntimeType } from '../manifest/index.ts';

const LANGUAGES: readonly RuntimeType[] = ['python', 'cpp', 'node'];

function language(value: string | undefined): RuntimeType {
  const found = LANGUAGES.find((l) => l === (value ?? 'python'));
  if (found) return found;
  throw new SandboxError('INVALID_REQUEST', `--language must be one of ${LANGUAGES.join(', ')}, not '${value}'`);
}

/** A reverse-DNS id from the directory's name when --id is not given: my-plugin → com.example.my-plugin. */
function defaultId(directory: string): string {
  const base = path
    .basename(path.resolve(directory))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z]+/, '');
  return `com.example.${base || 'plugin'}`;
}

/** `classtop-sandbox init DIR [--language python|cpp|node] [--id ID] [--name NAME]` */
export function initCommand(args: string[]): void {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { language: { type: 'string', short: 'l' }, id: { type: 'string' }, name: { type: 'string' } },
  });
  const directory = positionals[0];
  if (!directory) throw new SandboxError('INVALID_REQUEST', 'init needs the directory to create the plugin in');
  const id = values.id ?? defaultId(directory);
  const lang = language(values.language);
  const written = initPlugin(directory, {
    id,
    name: values.name ?? path.basename(path.resolve(directory)),
    language: lang,
  });
  // What was written must load: the scaffold and the manifest schema cannot drift apart unseen.
  loadManifest(directory, NO_OPERATOR_LIMITS, { entryMayBeMissing: true });
  const next =
    lang === 'cpp'
      ? `classtop-sandbox build ${directory} && classtop-sandbox sign ${directory} --key KEY --cert CERT`
      : `classtop-sandbox sign ${directory} --key KEY --cert CERT`;
  process.stdout.write(`created ${id} (${lang}) in ${directory}: ${written.join(', ')}\nnext: ${next}\n`);
}

/** `classtop-sandbox build DIR [--image IMAGE] [--config FILE]` */
export async function buildCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { image: { type: 'string' }, config: { type: 'string', short: 'c' } },
  });
  const directory = positionals[0];
  if (!directory) throw new SandboxError('INVALID_REQUEST', 'build needs the plugin directory');
  const config = loadConfig(values.config);
  const manifest = loadManifest(directory, config.limits, { entryMayBeMissing: true });
  const controller = new AbortController();
  const abort = () => controller.abort();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.once(s, abort);
  try {
    const built = await buildPlugin(manifest, {
      image: values.image ?? DEFAULT_CPP_BUILDER_IMAGE,
      dockerSocket: config.dockerSocket,
      output: process.stderr,
      signal: controller.signal,
    });
    process.stdout.write(
      built === undefined
        ? `${manifest.id} is a ${manifest.runtime} plugin: nothing to build; sign it as it is\n`
        : `built ${path.relative(process.cwd(), built) || built}\n`,
    );
  } finally {
    for (const s of signals) process.off(s, abort);
  }
}
