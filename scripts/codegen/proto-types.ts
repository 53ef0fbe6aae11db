/**
 * proto/*.proto → TypeScript types of the messages exactly as @grpc/proto-loader decodes them with
 * the project's options (src/protocol/load-protocol.ts): field names as written (keepCase), enums
 * as their names, 64-bit integers as number, bytes as Buffer, every field present (defaults), a
 * message field null when unset.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';

const NUMBER_TYPES = new Set([
  'double',
  'float',
  'int32',
  'uint32',
  'sint32',
  'fixed32',
  'sfixed32',
  'int64',
  'uint64',
  'sint64',
  'fixed64',
  'sfixed64',
]);
const SCALARS: Readonly<Record<string, string>> = { bool: 'boolean', string: 'string', bytes: 'Buffer' };
const VERSION_LINE = /^\/\/ classtop:protocol_version (\d+\.\d+)$/m;

/** Every .proto file under `protoDir`, loaded and resolved. */
export function loadProtoRoot(protoDir: string, files: readonly string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(protoDir, path.basename(target));
  root.loadSync([...files], { keepCase: true });
  root.resolveAll();
  return root;
}

/** The `// classtop:protocol_version MAJOR.MINOR` line of a .proto file. */
export function protocolVersionOf(protoFile: string): string {
  const found = VERSION_LINE.exec(readFileSync(protoFile, 'utf8'));
  if (!found?.[1]) throw new Error(`${protoFile}: no "// classtop:protocol_version MAJOR.MINOR" line; add one`);
  return found[1];
}

/** The TypeScript name of a message or enum: nested ones joined with `_` (PluginLifecycleRequest_Action). */
function tsName(type: protobuf.ReflectionObject): string {
  const names: string[] = [];
  for (let at: protobuf.ReflectionObject | null = type; at && !isPackage(at); at = at.parent) names.unshift(at.name);
  return names.join('_');
}

function isPackage(object: protobuf.ReflectionObject): boolean {
  return !(object instanceof protobuf.Type) && !(object instanceof protobuf.Enum);
}

/** Names a file imports, by the module they come from. */
type Imports = Map<string, Set<string>>;

/** The generated module of a .proto file: classtop_plugin.proto → classtop-plugin.ts. */
export function moduleOf(protoFile: string): string {
  return `${path.basename(protoFile, '.proto').replace(/_/g, '-')}.ts`;
}

function valueType(field: protobuf.FieldBase, fromFile: string, imports: Imports): string {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum || resolved instanceof protobuf.Type) {
    if (resolved.filename && resolved.filename !== fromFile) {
      const module = `./${moduleOf(resolved.filename)}`;
      imports.set(module, (imports.get(module) ?? new Set()).add(tsName(resolved)));
    }
    return tsName(resolved);
  }
  if (NUMBER_TYPES.has(field.type)) return 'number';
  const scalar = SCALARS[field.type];
  if (!scalar)
    throw new Error(`${fromFile}: field ${field.fullName} has type ${field.type}, unsupported by the generator`);
  return scalar;
}

function fieldType(field: protobuf.Field, fromFile: string, imports: Imports): string {
  const value = valueType(field, fromFile, imports);
  if (field instanceof protobuf.MapField) return `Record<string, ${value}>`;
  if (field.repeated) return `${value}[]`;
  return field.resolvedType instanceof protobuf.Type ? `${value} | null` : value;
}

function renderEnum(type: protobuf.Enum): string {
  const name = tsName(type);
  const constant = name
    .replace(/_/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase();
  const values = Object.entries(type.values).map(([key, number]) => `  ${key}: ${number},`);
  return [
    `export type ${name} = ${Object.keys(type.values)
      .map((key) => `'${key}'`)
      .join(' | ')};`,
    `/** ${type.fullName.slice(1)}: each name's number on the wire. */`,
    `export const ${constant}_NUMBERS: Readonly<Record<${name}, number>> = {`,
    ...values,
    `};`,
  ].join('\n');
}

function renderMessage(type: protobuf.Type, imports: Imports): string {
  if (type.oneofsArray.length > 0) {
    throw new Error(`${type.fullName}: oneofs are not supported by scripts/generate-protocol.ts yet; extend it`);
  }
  const fields = type.fieldsArray.map((field) => `  ${field.name}: ${fieldType(field, type.filename ?? '', imports)};`);
  return [`export interface ${tsName(type)} {`, ...fields, '}'].join('\n');
}

function declarationsOf(namespace: protobuf.NamespaceBase, file: string): protobuf.ReflectionObject[] {
  const found: protobuf.ReflectionObject[] = [];
  for (const nested of namespace.nestedArray) {
    if ((nested instanceof protobuf.Type || nested instanceof protobuf.Enum) && nested.filename === file) {
      found.push(nested);
    }
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) {
      found.push(...declarationsOf(nested, file));
    }
  }
  return found;
}

/** The TypeScript source of one .proto file's messages and enums. */
export function renderProtoFile(root: protobuf.Root, file: string, header: string, version?: string): string {
  const imports: Imports = new Map();
  const body = declarationsOf(root, file).map((declaration) =>
    declaration instanceof protobuf.Enum
      ? renderEnum(declaration)
      : renderMessage(declaration as protobuf.Type, imports),
  );
  const lines = [header];
  for (const [module, names] of [...imports].sort()) {
    lines.push(`import type { ${[...names].sort().join(', ')} } from '${module}';`);
  }
  if (version) {
    lines.push(
      `/** The protocol version of proto/classtop_plugin.proto (MAJOR.MINOR). */\nexport const PROTOCOL_VERSION = '${version}';`,
    );
  }
  return [...lines, ...body].join('\n\n') + '\n';
}
