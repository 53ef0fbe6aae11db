#!/usr/bin/env bash
# Signs the example plugins again with the example developer certificate (after editing them).
# The example CA and developer keys in examples/trust are for the examples only: never trust them
# anywhere else.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
for plugin in "$ROOT"/examples/plugins/*/; do
  node "$ROOT/dist/src/cli/main.js" sign "$plugin" \
    --key "$ROOT/examples/trust/developer/developer.key.pem" --cert "$ROOT/examples/trust/developer/developer.pem"
done
