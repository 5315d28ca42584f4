#!/usr/bin/env bash
# An outside check of the bench's ratios: the bench's own client code (dist/bench/client.js, the
# very code `npm run bench` runs) started as `node client.js` and as
# `node -r timeoutsocket/register client.js` (every timeout armed; the package resolves its own
# name to dist/lib/register.js, the file the bench preloads), nothing else in between, with
# CPU taken by the shell around each whole process (start-up and warm-up included) rather than
# by the client itself. Every process does a fixed amount of work, so plain CPU / patched CPU is
# the same ratio as the bench's work per CPU-second (above 1: the shim costs nothing). The order
# alternates pair by pair. At the end (bench/ab-compare.ts): the median and span of the outside
# ratios, of the same processes' inside ratios (their measured window, as the bench figures it),
# the bench's row from bench/results/latest.json, and whether the two agree within the noise:
# each median inside the other's min–max span of per-pair / per-round ratios.
#
# Usage (after `npm run build`):  bash bench/ab.sh [pairs] [workload] [units]
#   workload: pingpong, bulk, churn, http or fetch (default pingpong)
#   units, the work of one process:
#     pingpong  round trips over 50 connections, no timed warm-up (default 300000)
#     bulk      transfers of 256 MiB after a 2 GiB warm-up, as the bench (default 9)
#     churn     short connections, 20 at a time, after 11,000 warm-up ones (default 10000)
#     http      requests through one keep-alive http.Agent after 10,000 warm-up ones (default 10000)
#     fetch     fetch() requests after 10,000 warm-up ones (default 10000)
# The warm-ups are the CPU bench's (bench/run.ts CHURN_WARMUP, REQUESTS_WARMUP): V8 tiers the
# per-connection and per-request code up until about then, and the shim's side has more of it.
# The outside figure includes the warm-up and its one-time tier-up (bench/README.md, "The outside
# A/B"). The defaults make a plain process run a few seconds, so start-up is about 1% of it; small
# units only prove the script works.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-9}
workload=${2:-pingpong}
MiB=1048576
case $workload in
  pingpong) units=${3:-300000}; key=echo ;;
  bulk) units=${3:-9}; key=discard ;;
  churn) units=${3:-10000}; key=churn ;;
  http | fetch) units=${3:-10000}; key=http ;;
  *) echo "ab.sh: workload must be pingpong, bulk, churn, http or fetch, got '$workload'" >&2; exit 2 ;;
esac
[[ $pairs =~ ^[1-9][0-9]*$ ]] || { echo "ab.sh: pairs must be a whole number >= 1, got '$pairs'" >&2; exit 2; }
[[ $units =~ ^[1-9][0-9]*$ ]] || { echo "ab.sh: units must be a whole number >= 1, got '$units'" >&2; exit 2; }
[[ -f dist/bench/client.js && -f dist/bench/ab-compare.js ]] || { echo "ab.sh: run npm run build first" >&2; exit 2; }

unset NODE_OPTIONS
for v in $(env | sed -n 's/^\(TIMEOUTSOCKET_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ab.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The unpatched server, fed from a pipe: it stops when this script ends and closes the pipe.
exec 3> >(exec node dist/bench/server.js > "$tmp/ports")
for _ in $(seq 50); do [[ -s $tmp/ports ]] && break; sleep 0.1; done
[[ -s $tmp/ports ]] || { echo "ab.sh: the bench server did not start" >&2; exit 1; }
port=$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1])[process.argv[2]]))' "$(cat "$tmp/ports")" "$key")

# The client's parameters: the bench's workload, with a fixed amount of work.
case $workload in
  pingpong) params="{\"port\":$port,\"connections\":50,\"warmupMs\":0,\"durationMs\":0,\"messages\":$units}" ;;
  bulk) params="{\"port\":$port,\"bytes\":$((256 * MiB)),\"transfers\":$units,\"warmupBytes\":$((2048 * MiB)),\"chunkBytes\":65536}" ;;
  churn) params="{\"port\":$port,\"connections\":$units,\"warmup\":11000,\"concurrency\":20}" ;;
  http | fetch) params="{\"port\":$port,\"requests\":$units,\"warmup\":10000}" ;;
esac

# Runs one whole client process; prints its CPU seconds (user + sys) and appends its record.
run() {
  local side=$1 pair=$2 t cpu
  shift 2
  t=$( { TIMEFORMAT='%U %S'; time "$@" dist/bench/client.js "$workload" "$params" > "$tmp/out"; } 2>&1 | tail -n 1)
  cpu=$(awk '{ printf "%.3f", $1 + $2 }' <<< "$t")
  printf '{"side":"%s","pair":%d,"cpuS":%s,"result":%s}\n' "$side" "$pair" "$cpu" "$(tail -n 1 "$tmp/out")" >> "$tmp/pairs.jsonl"
  echo "$cpu"
}
plain() { run plain "$1" node; }
patched() { TIMEOUTSOCKET_TIMEOUT=60s run patched "$1" node -r timeoutsocket/register; }

for i in $(seq "$pairs"); do
  if (( i % 2 )); then a=$(plain "$i"); b=$(patched "$i"); else b=$(patched "$i"); a=$(plain "$i"); fi
  echo "pair $i: plain ${a}s, patched ${b}s CPU, ratio $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')"
done
echo "$workload, $units units per process, $pairs pairs:"
node dist/bench/ab-compare.js "$workload" "$tmp/pairs.jsonl"
