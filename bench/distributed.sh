#!/bin/sh
# Scaling of a distributed sweep (docs/distributed.md): the same `caremesh sweep` run by one
# process, then under mpirun on 1, 2 and 4 ranks of one thread each, on this machine only.
# Then, for reference, two independent processes doing half the runs each at once (the
# machine's capacity for two processes at that moment), and 2 ranks where rank 0 only
# coordinates (--coordinator-only). Prints the wall time of each
# (median of TRIALS), the speedup over one rank, the load average around the measurements, and
# checks that every run gave the same sweep.json and points.csv.
#
#   bench/distributed.sh [BUILD_DIR [REPLICATIONS [TRIALS]]]   (defaults: build 200 3)
#
# The sweep: tests/data/designs/grid.yaml (6 points of training-small, full 365-day horizon)
# x REPLICATIONS, i.e. 1200 runs by default.
set -eu
build=${1:-build}
reps=${2:-200}
trials=${3:-3}
bin=$build/models/caremesh
design=tests/data/designs/grid.yaml
[ -x "$bin" ] || { echo "no $bin: build caremesh first" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "mpirun not found (apt-get install openmpi-bin)" >&2; exit 2; }
root=
[ "$(id -u)" = 0 ] && root=--allow-run-as-root
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Wall seconds of one experiment from scratch: "$@" is the launcher prefix (maybe empty);
# $extra, caremesh options added at the end.
extra=
wall() {
  rm -rf "$tmp/out"
  start=$(date +%s.%N)
  "$@" "$bin" sweep training-small --design "$design" --replications "$reps" --threads 1 \
    --quiet --out "$tmp/out" $extra
  end=$(date +%s.%N)
  echo "$start $end" | awk '{printf "%.2f\n", $2 - $1}'
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

mpi() {
  echo mpirun $root --oversubscribe --bind-to none -np "$1" --mca pml ob1 --mca btl self,vader \
    --mca btl_vader_single_copy_mechanism none --mca oob_tcp_if_include lo
}

echo "caremesh sweep training-small --design $design --replications $reps --threads 1"
echo "($(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-40s %8s %8s\n' launcher "wall s" speedup
one=
for ranks in 0 1 2 4; do
  if [ "$ranks" = 0 ]; then label="one process"; launcher=""; else
    label="mpirun -np $ranks"; launcher=$(mpi "$ranks"); fi
  t=$(for i in $(seq "$trials"); do wall $launcher; done | median)
  [ "$ranks" = 1 ] && one=$t
  if [ -n "$one" ]; then s=$(echo "$one $t" | awk '{printf "%.2f", $1 / $2}'); else s=-; fi
  printf '%-40s %8s %8s\n' "$label" "$t" "$s"
  cp "$tmp/out/sweep.json" "$tmp/sweep.$ranks.json"
  cp "$tmp/out/points.csv" "$tmp/points.$ranks.csv"
  cmp -s "$tmp/sweep.0.json" "$tmp/sweep.$ranks.json" && cmp -s "$tmp/points.0.csv" \
    "$tmp/points.$ranks.csv" || { echo "results differ at $ranks ranks" >&2; exit 1; }
done
# What this machine gives two processes right now (other users' load included): two
# independent single-process sweeps of half the replications each, at once.
half() {
  rm -rf "$tmp/h1" "$tmp/h2"
  start=$(date +%s.%N)
  for h in h1 h2; do
    "$bin" sweep training-small --design "$design" --replications $((reps / 2)) --threads 1 \
      --quiet --out "$tmp/$h" &
  done
  wait
  end=$(date +%s.%N)
  echo "$start $end" | awk '{printf "%.2f\n", $2 - $1}'
}
t=$(for i in $(seq "$trials"); do half; done | median)
printf '%-40s %8s %8s\n' "2 independent processes, half each" "$t" \
  "$(echo "$one $t" | awk '{printf "%.2f", $1 / $2}')"
# The alternative for rank 0: hand out runs and write the store, run none itself.
extra=--coordinator-only
t=$(for i in $(seq "$trials"); do wall $(mpi 2); done | median)
printf '%-40s %8s %8s\n' "mpirun -np 2 (rank 0 only coordinates)" "$t" \
  "$(echo "$one $t" | awk '{printf "%.2f", $1 / $2}')"
cmp -s "$tmp/sweep.0.json" "$tmp/out/sweep.json" || { echo "results differ" >&2; exit 1; }
echo "(load average after: $(cut -d' ' -f1-3 /proc/loadavg); sweep.json and points.csv identical)"
