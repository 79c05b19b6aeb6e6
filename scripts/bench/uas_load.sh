#!/usr/bin/env bash
# Calls per second of the `uas` example (sip-core's sans-IO Endpoint on a tokio UDP socket)
# under SIPp load, next to the harness ceiling: SIPp's uac against SIPp's own uas at the same
# rates, in the same run. Signalling only (INVITE/100/180/200/ACK, pause 0, BYE/200), loopback.
#
#   scripts/bench/uas_load.sh [RATES...]      default rates: 500 1000 2000 4000 8000
#
# Each rate runs for DURATION seconds (default 5). A rate "holds" when every call succeeded
# and SIPp reached it (achieved >= 95 % of the target). Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
RATES=("${@:-500 1000 2000 4000 8000}")
read -r -a RATES <<<"${RATES[*]}"
DURATION=${DURATION:-5}
OUT=$(mktemp -d /tmp/uas-load.XXXX)
command -v sipp >/dev/null || { echo "needs sipp (apt-get install sip-tester)" >&2; exit 1; }
cargo build --release -q -p pbxkit-examples --bin uas
UAS=${CARGO_TARGET_DIR:-target}/release/uas

port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# cpu PID -> CPU seconds (user+system) the process has used so far
cpu() { awk -v t="$(getconf CLK_TCK)" '{print ($14+$15)/t}' "/proc/$1/stat"; }

# run NAME TARGET RATE -> prints "achieved_cps successful failed"
run() {
  local name=$1 target=$2 rate=$3 calls=$(( $3 * DURATION ))
  local stat="$OUT/$name-$rate.csv"
  sipp -sn uac -i 127.0.0.1 -p "$(port)" -r "$rate" -m "$calls" -l $(( rate * 2 )) \
       -d 0 -nostdin -trace_stat -stf "$stat" -fd 1 -timeout $(( DURATION * 4 + 10 )) \
       "$target" >/dev/null 2>&1 || true
  python3 - "$stat" <<'PY'
import sys
rows=[l.rstrip("\n").split(";") for l in open(sys.argv[1])]
h,last=rows[0],rows[-1]
v=dict(zip(h,last))
ok=int(v["SuccessfulCall(C)"]); bad=int(v["FailedCall(C)"])
print(f"{float(v['CallRate(C)']):.0f} {ok} {bad}")
PY
}

printf '# uas under SIPp load (%s, %s cores, %s)\n\n' "$(uname -n)" "$(nproc)" "$(date -u +%FT%TZ)"
printf '| target cps | uas cps | uas ok/failed | uas CPU s | SIPp uas cps | SIPp uas ok/failed | SIPp uas CPU s |\n'
printf '|---|---|---|---|---|---|---|\n'
for rate in "${RATES[@]}"; do
  p1=$(port); "$UAS" --bind "127.0.0.1:$p1" >/dev/null 2>&1 & upid=$!
  sleep 0.3
  read -r ours ok bad < <(run ours "127.0.0.1:$p1" "$rate")
  c1=$(cpu "$upid")
  kill "$upid" 2>/dev/null || true; wait "$upid" 2>/dev/null || true
  p2=$(port); sipp -sn uas -i 127.0.0.1 -p "$p2" -nostdin >/dev/null 2>&1 & spid=$!
  sleep 0.3
  read -r theirs ok2 bad2 < <(run sipp "127.0.0.1:$p2" "$rate")
  c2=$(cpu "$spid")
  kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
  printf '| %s | %s | %s/%s | %s | %s | %s/%s | %s |\n' "$rate" "$ours" "$ok" "$bad" "$c1" "$theirs" "$ok2" "$bad2" "$c2"
done
echo
echo "Raw SIPp statistics: $OUT"
