import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { GatewayClient } from './gateway-client.ts';
import { HOST_API_METHODS, PluginAPI } from './plugin-api.ts';
import { gatewayClient } from './protocol.ts';

/**
 * The host API catalogue as every SDK sees it: JSON generated from src/host-api (npm run
 * generate). Read from the repository, where the tests run; the SDK in its image needs none.
 */
const CONTRACT = new URL('../../../src/protocol/generated/contract.json', import.meta.url);
const catalogue = (
  JSON.parse(readFileSync(CONTRACT, 'utf8')) as { hostApis: Record<string, { permission: string | null }> }
).hostApis;
const table: Record<string, { method: string; permission: string | null }> = HOST_API_METHODS;

describe("the Node SDK's host API method table, against the catalogue", () => {
  it('has every api_name of the catalogue', () => {
    const missing = Object.keys(catalogue).filter((name) => !Object.hasOwn(table, name));
    assert.deepEqual(missing, [], `host APIs missing from HOST_API_METHODS in sandboxes/node/src/plugin-api.ts`);
  });

  it('has no api_name the catalogue does not know (a misnamed one)', () => {
    const unknown = Object.keys(table).filter((name) => !Object.hasOwn(catalogue, name));
    assert.deepEqual(unknown, [], 'api_names in HOST_API_METHODS that src/host-api does not define');
  });

  it("states each API's permission as the catalogue does", () => {
    for (const [name, entry] of Object.entries(table)) {
      assert.equal(entry.permission, catalogue[name]?.permission, `permission of ${name}`);
    }
  });

  describe('calls, from each method, the api_name the table gives it', () => {
    const client = gatewayClient('/nonexistent/gateway.sock') as GatewayClient;
    after(() => client.close());

    for (const [name, { method }] of Object.entries(table)) {
      it(`${method} → ${name}`, async () => {
        const api = new PluginAPI(client, 1_000);
        const sent: string[] = [];
        // Records the call instead of sending it: the wire path is the call-stream tests' concern.
        api.call = <T>(apiName: string): Promise<T> => {
          sent.push(apiName);
          return Promise.resolve(null as T);
        };
        const fn = (api as unknown as Record<string, () => Promise<unknown>>)[method];
        assert.equal(typeof fn, 'function', `PluginAPI.${method}`);
        await fn?.call(api);
        assert.deepEqual(sent, [name]);
      });
    }
  });
});
