#!/usr/bin/env bash
# Runs two builds of GatewayBenchmark in alternating pairs (previous, current, previous, current, …), so that
# the machine's drift (up to 1.7× within an hour) falls on both alike; prints one line per run and the
# medians. Usage:
#   Benchmarks/alternate-builds.sh PREVIOUS_EXECUTABLE CURRENT_EXECUTABLE PAIRS [GatewayBenchmark options…]
# For example, with each build's release GatewayBenchmark:
#   Benchmarks/alternate-builds.sh /tmp/prev/.build/release/GatewayBenchmark .build/release/GatewayBenchmark 5 \
#       --intake-only --bulletins 12000 --concurrency 64
# Without --intake-only each run also prints eligibility (wrk) and nginx's figure of the same run.
# With ALTERNATE_LOG=FILE every run's whole output is appended to FILE.
set -euo pipefail
previous=$1 current=$2 pairs=$3
shift 3
declare -a previous_runs current_runs
figure() { grep -o '= [0-9]* bulletins/s' | grep -o '[0-9]*' | head -1; }
for pair in $(seq 1 "$pairs"); do
  for build in previous current; do
    executable=${!build}
    output=$("$executable" "$@" 2>&1)
    if [ -n "${ALTERNATE_LOG:-}" ]; then printf '== pair %s %s\n%s\n' "$pair" "$build" "$output" >>"$ALTERNATE_LOG"; fi
    rate=$(figure <<<"$output")
    openssl=$(grep -A2 '^openssl speed' <<<"$output" | tail -1 | awk '{ print $(NF - 1) " signs/s" }' || true)
    eligibility=$(grep -A6 '^eligibility on the internal listener' <<<"$output" | grep -m1 -oE 'Requests/sec: *[0-9.]+' | grep -oE '[0-9.]+' || true)
    persons=$(grep -A6 '^eligibility over 1,000 persons' <<<"$output" | grep -m1 -oE 'Requests/sec: *[0-9.]+' | grep -oE '[0-9.]+' || true)
    nginx=$(grep -A6 '^nginx, same machine' <<<"$output" | grep -m1 -oE 'Requests/sec: *[0-9.]+' | grep -oE '[0-9.]+' || true)
    echo "pair $pair $build: intake ${rate:-?}/s${eligibility:+ eligibility $eligibility/s}${persons:+ persons $persons/s}${nginx:+ nginx $nginx/s}${openssl:+ (openssl: $openssl)}"
    if [ "$build" = previous ]; then previous_runs+=("${rate:-0}"); else current_runs+=("${rate:-0}"); fi
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
echo "intake median: previous $(median "${previous_runs[@]}")/s, current $(median "${current_runs[@]}")/s"
