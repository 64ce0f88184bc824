#!/usr/bin/env bash
# flowsource's scan vs ripgrep on the same generated JSON Lines day, side by side.
#
#   scripts/bench-scan-vs-rg.sh [SIZE_MB] [WORKDIR] [ROUNDS]
#
# SIZE_MB (default 2100, i.e. > 2 GB) of collector-shaped JSON Lines and a 3,000-address
# blocklist are generated once into WORKDIR (default $TMPDIR/iocflow-scan-bench) by
# flowsource's gen_jsonl example. The file is read once to warm the page cache, then
# ROUNDS (default 2) rounds each run `rg -F -f iocs.txt FILE` (which only finds substrings,
# some of them false: "1.2.3.4" is in "11.2.3.45") and flowsource's scan example (exact
# totals and samples per IoC) under /usr/bin/time -v. Prints wall time, CPU time,
# throughput (wall and per CPU-second) and peak RSS. ripgrep and GNU time come from
# Debian's packages and are installed if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

size_mb=${1:-2100}
work=${2:-${TMPDIR:-/tmp}/iocflow-scan-bench}
rounds=${3:-2}

need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$2"; }; }
need rg ripgrep
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }

cargo build --release -q -p flowsource --examples
cargo build --release -q -p iocflow-cli --bin iocflow
bin=target/release/examples
mkdir -p "$work"
file="$work/day-${size_mb}MB.jsonl"
iocs="$work/iocs.txt"
if [ ! -s "$file" ] || [ ! -s "$iocs" ]; then
  echo "generating $file ..."
  "$bin/gen_jsonl" "$file" "$size_mb" "$iocs" 3000
fi
bytes=$(stat -c %s "$file")
cat "$file" > /dev/null # warm the page cache for both tools alike

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "file: $file ($bytes bytes), blocklist: $(wc -l < "$iocs") addresses"

measure() { # name, command...
  local name=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -v "$@" > "$log.out" 2> "$log" || true
  awk -v name="$name" -v bytes="$bytes" -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); wall = (n == 3) ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2] }
    /User time/ { user = $2 } /System time/ { sys = $2 } /Maximum resident/ { rss = $2 }
    END { cpu = user + sys; printf "%-10s wall %7.2f s  cpu %7.2f s  %7.0f MB/s wall  %7.0f MB/s per cpu-s  peak RSS %6.0f MB\n",
          name, wall, cpu, bytes / 1e6 / wall, bytes / 1e6 / cpu, rss / 1024 }' "$log"
  if [ "$name" != ripgrep ]; then sed 's/^/           /' "$log.out"; else echo "           rg printed $(wc -l < "$log.out") lines"; fi
  rm -f "$log" "$log.out"
}

for r in $(seq 1 "$rounds"); do
  echo "round $r (load $(cut -d' ' -f1-3 /proc/loadavg))"
  measure ripgrep rg -F -f "$iocs" "$file"
  measure flowsource "$bin/scan" "$file" "$iocs"
  # The whole daily run on the same file: scan, IoC view, classification, the
  # embedded store (a fresh one each round).
  rm -rf "$work/data"
  measure iocflow-run target/release/iocflow -q run --flows "$file" --blocklist "$iocs" --data-dir "$work/data"
done
