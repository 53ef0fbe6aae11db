/**
 * The contract beyond the messages, from its one source in src/: the host API catalogue, the
 * error-code table and the container environment (and the C++ SDK ABI, from plugin.h). Rendered as language-neutral JSON (what every
 * SDK's tests check against) and as the Node SDK's own TypeScript copies.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { z } from 'zod';
import { ERROR_CODE_METADATA_KEY, ERROR_CODES, refusalText, type PluginErrorCode } from '../../src/errors/index.ts';
import { HOST_APIS, RESULT_SHAPES } from '../../src/host-api/index.ts';
import { CONTAINER_ENV } from '../../src/protocol/container-env.ts';
import type { CppPluginAbi } from './cpp-plugin-abi.ts';

/** Inputs and outputs of the refusal-text rule, for each SDK's test of its own copy. */
const REFUSAL_EXAMPLES: ReadonlyArray<[PluginErrorCode, string]> = [
  ['PERMISSION_DENIED', "get_setting needs permission 'access:settings'"],
  ['INVALID_REQUEST', 'INVALID_REQUEST: payload.week: is required'],
  ['NOT_FOUND', 'TIMEOUT: not this code'],
  ['INTERNAL_ERROR', ''],
];

function hostApis(): Record<string, unknown> {
  const entries = Object.entries(HOST_APIS).map(([name, api]) => {
    const payload: Record<string, unknown> = z.toJSONSchema(api.schema, { io: 'input', unrepresentable: 'any' });
    delete payload.$schema; // the same dialect for every API: noise in the contract
    return [name, { permission: api.permission, result: api.result, payload }];
  });
  return Object.fromEntries(entries);
}

/** src/protocol/generated/contract.json: the whole contract as data, for any language. */
export function renderContractJson(protocolVersion: string, cppPluginAbi: CppPluginAbi, header: string): string {
  const contract = {
    $comment: header.replace(/^\/\/ /, ''),
    protocolVersion,
    errorCodes: Object.fromEntries(
      Object.entries(ERROR_CODES).map(([name, e]) => [name, { number: e.number, grpcStatus: e.grpc, http: e.http }]),
    ),
    errorCodeMetadataKey: ERROR_CODE_METADATA_KEY,
    refusalExamples: REFUSAL_EXAMPLES.map(([code, message]) => ({ code, message, text: refusalText(code, message) })),
    containerEnvironment: CONTAINER_ENV,
    hostApis: hostApis(),
    resultShapes: RESULT_SHAPES,
    cppPluginAbi,
  };
  return JSON.stringify(contract, null, 2) + '\n';
}

/** sandboxes/node/src/generated/error-codes.ts: the SDK's copy of the error-code table. */
export function renderSdkErrorCodes(header: string): string {
  const rows = Object.entries(ERROR_CODES).map(([name, e]) => `  ${name}: GrpcStatus.${GrpcStatus[e.grpc]},`);
  return [
    header,
    `import { status as GrpcStatus } from '@grpc/grpc-js';`,
    `import type { PluginErrorCode } from './classtop-plugin.ts';`,
    `/** Trailing metadata key that carries the PluginErrorCode name of a failed call. */\nexport const ERROR_CODE_METADATA_KEY = '${ERROR_CODE_METADATA_KEY}';`,
    `/** Each PluginErrorCode's gRPC status (src/errors/error-codes.ts). */\nexport const GRPC_STATUS: Readonly<Record<PluginErrorCode, GrpcStatus>> = {\n${rows.join('\n')}\n};`,
  ].join('\n\n');
}

/** sandboxes/node/src/generated/container-env.ts: the variables the runner may read. */
export function renderSdkContainerEnv(header: string): string {
  const rows = Object.entries(CONTAINER_ENV).map(
    ([name, variable]) => `  /** ${variable.about} */\n  ${name}: { required: ${variable.required} },`,
  );
  return [
    header,
    `/** The environment the orchestrator gives a plugin's container (src/protocol/container-env.ts). */\nexport const CONTAINER_ENV = {\n${rows.join('\n')}\n} as const;`,
    `export type ContainerEnvName = keyof typeof CONTAINER_ENV;`,
  ].join('\n\n');
}
