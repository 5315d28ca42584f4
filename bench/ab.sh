#!/usr/bin/env bash
# An outside check of the bench's ratios: the same client code run as `node client.js` and as
# `node -r dist/lib/register.js client.js` (every timeout armed), nothing else in between, with
# wall and CPU time taken by the shell around each whole process (start-up included) rather
# than by the client itself. The order alternates pair by pair; the median of the per-pair
# ratios (plain CPU / patched CPU: above 1 means the shim costs nothing) is printed at the end.
#
# Usage (after `npm run build`):  bash bench/ab.sh [pairs] [workload] [units]
#   workload: pingpong, churn, http or fetch (bench/counted.ts), default pingpong; units: work
#   per process (default 20000 round trips, 3000 connections, 5000 requests).
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-9}
workload=${2:-pingpong}
case $workload in
  pingpong) units=${3:-20000} ;;
  churn) units=${3:-3000} ;;
  http | fetch) units=${3:-5000} ;;
  *) echo "ab.sh: workload must be pingpong, churn, http or fetch, got '$workload'" >&2; exit 2 ;;
esac
[[ -f dist/bench/counted.js ]] || { echo "ab.sh: run npm run build first" >&2; exit 2; }

unset NODE_OPTIONS
for v in $(env | sed -n 's/^\(TIMEOUTSOCKET_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

# The unpatched server, fed from a pipe: it stops when this script ends and closes the pipe.
exec 3> >(exec node dist/bench/server.js > "${TMPDIR:-/tmp}/ab-ports.$$")
for _ in $(seq 50); do [[ -s ${TMPDIR:-/tmp}/ab-ports.$$ ]] && break; sleep 0.1; done
ports=$(cat "${TMPDIR:-/tmp}/ab-ports.$$")
rm -f "${TMPDIR:-/tmp}/ab-ports.$$"
key=$(case $workload in pingpong) echo echo ;; churn) echo churn ;; *) echo http ;; esac)
port=$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1])[process.argv[2]]))' "$ports" "$key")

# CPU seconds (user + sys) of one whole client process.
cpu_of() {
  local t
  t=$( { TIMEFORMAT='%U %S'; time "$@" > /dev/null; } 2>&1 | tail -n 1)
  awk '{ printf "%.3f", $1 + $2 }' <<< "$t"
}
plain() { cpu_of node dist/bench/counted.js "$workload" "$port" "$units" 0; }
patched() { TIMEOUTSOCKET_TIMEOUT=60s cpu_of node -r ./dist/lib/register.js dist/bench/counted.js "$workload" "$port" "$units" 0; }

ratios=()
for i in $(seq "$pairs"); do
  if (( i % 2 )); then a=$(plain); b=$(patched); else b=$(patched); a=$(plain); fi
  r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')
  ratios+=("$r")
  echo "pair $i: plain ${a}s, patched ${b}s CPU, ratio $r"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
echo "$workload, $units units per process, $pairs pairs: median plain/patched CPU ratio $median"
