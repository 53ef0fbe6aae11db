#!/usr/bin/env bash
# Signs the example plugins again with the example developer certificate (after editing them).
# The Node and Python examples' signatures are committed; the C++ examples are built and signed
# by scripts/build-cpp-examples.sh (at set-up), their signatures and builds are not committed.
# The example CA and developer keys in examples/trust are for the examples only: never trust them
# anywhere else.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
for plugin in "$ROOT"/examples/plugins/*/; do
  grep -Eq '^[[:space:]]+language:[[:space:]]*"?cpp"?' "$plugin/plugin.yaml" && continue
  node "$ROOT/dist/src/cli/main.js" sign "$plugin" \
    --key "$ROOT/examples/trust/developer/developer.key.pem" --cert "$ROOT/examples/trust/developer/developer.pem"
done
bash "$ROOT/scripts/build-cpp-examples.sh"
