import assert from 'node:assert/strict';

/** What a SARIF report's test reads of it. */
export interface Sarif {
  version: string;
  runs: Array<{
    tool: { driver: { name: string; rules: Array<{ id: string }> } };
    results: Array<{
      ruleId: string;
      level: string;
      message: { text: string };
      locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }>;
    }>;
  }>;
}

/** SARIF 2.1.0's required fields, and GitHub's: a rule for every result, a message, a location. */
export function checkSarif(sarif: Sarif): void {
  assert.equal(sarif.version, '2.1.0');
  for (const run of sarif.runs) {
    assert.ok(run.tool.driver.name);
    const rules = new Set(run.tool.driver.rules.map((r) => r.id));
    assert.ok(run.results.length <= 5_000);
    for (const result of run.results) {
      assert.ok(rules.has(result.ruleId), result.ruleId);
      assert.ok(['error', 'warning', 'note'].includes(result.level));
      assert.ok(result.message.text.length > 0);
      assert.ok(result.locations[0]?.physicalLocation.artifactLocation.uri);
    }
  }
}
