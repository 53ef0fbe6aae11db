/**
 * The C++ SDK's ABI version, from its one source: the #defines of
 * sandboxes/cpp/include/classtop/plugin.h, which plugins and the runner are compiled with. Copied
 * into contract.json (the runner's `--contract` prints its own, test/e2e/cpp-plugins.test.ts
 * compares them) and into a TypeScript constant for `verify`'s cpp-abi check.
 */
import { readFileSync } from 'node:fs';

export interface CppPluginAbi {
  major: number;
  minor: number;
  /** The symbol CLASSTOP_PLUGIN_EXPORT defines with the two numbers (two uint32, major first). */
  symbol: string;
}

/** The macro's definition of the symbol: `const classtop_plugin_abi NAME = {`. */
const SYMBOL_DEFINITION = /const classtop_plugin_abi (\w+) = \{/;

function define(header: string, text: string, name: string): number {
  const match = new RegExp(`^#define ${name} (\\d+)\\s*$`, 'm').exec(text);
  if (!match?.[1]) throw new Error(`${header} has no '#define ${name} <number>' line; the ABI version is read from it`);
  return Number(match[1]);
}

export function readCppPluginAbi(header: string): CppPluginAbi {
  const text = readFileSync(header, 'utf8');
  const symbol = SYMBOL_DEFINITION.exec(text)?.[1];
  if (!symbol) throw new Error(`${header}: CLASSTOP_PLUGIN_EXPORT defines no 'const classtop_plugin_abi NAME = {'`);
  return {
    major: define(header, text, 'CLASSTOP_PLUGIN_ABI_MAJOR'),
    minor: define(header, text, 'CLASSTOP_PLUGIN_ABI_MINOR'),
    symbol,
  };
}

/** src/protocol/generated/cpp-plugin-abi.ts: what the runner serves, for code that reads a plugin library. */
export function renderCppPluginAbi(abi: CppPluginAbi, header: string): string {
  return [
    header,
    '/**',
    ' * The SDK ABI the C++ runner serves: a library built for this major and a minor up to this one',
    ' * (its `classtop_plugin_abi_version` symbol); any other is refused with PLUGIN_ABI_MISMATCH.',
    ' * `symbol` is the exported symbol that holds the two numbers (two uint32, major first).',
    ' */',
    `export const CPP_PLUGIN_ABI = ${JSON.stringify(abi)} as const;`,
  ].join('\n');
}
