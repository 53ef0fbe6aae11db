import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { MANIFEST_FILE } from '../../manifest/index.ts';

/**
 * Finds the line of a plugin.yaml field (`sandbox.memory_mb`, `permissions.2`) so that a finding
 * can point at it; undefined when the file or the field is not there.
 */
export function manifestLineFinder(root: string): (field: string) => number | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(root, MANIFEST_FILE), 'utf8');
  } catch {
    return () => undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  return (field) => {
    const keys = field.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    // The deepest part of the path that exists: a missing field points at its parent.
    for (let depth = keys.length; depth > 0; depth--) {
      const node: unknown = doc.getIn(keys.slice(0, depth), true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
}
