#!/usr/bin/env bash
# measure.sh: re-measure the README's figures on the machine at hand and print
# them as one Markdown table, with the machine they were measured on.
#
# Usage:
#   scripts/measure.sh [options] [[LABEL=]DIR ...]
#
#   DIR     a checkout of mgmtsession (default: the one holding this script).
#           Several DIRs are measured in the same run, one figure after the
#           other for each DIR in turn (build A, build B, tests A, tests B, ...),
#           so that they share the machine's conditions; each becomes a column.
#   LABEL   the column's title (default: the checkout's short commit, with
#           "+dirty" when its tree has uncommitted changes).
#
# Options:
#   --no-build   skip the cold build, its peak memory and the binary size
#   --no-test    skip the cold test suite
#   --no-bench   skip the benchmarks
#   --no-demo    skip the time from `go run . --demo` to the first frame
#   --bench RE   benchmarks to run (default "." : every benchmark of every
#                package; the README's are PreflightReads, Evaluate240x12,
#                NewEvaluator240, MatrixLocal, MatrixWithGraph)
#   -h, --help   this text
#
# Example (before and after a change, in one run):
#   git worktree add --detach /tmp/before <commit-before>
#   git worktree add --detach /tmp/after  <commit-after>
#   scripts/measure.sh before=/tmp/before after=/tmp/after
#
# What it measures, for each DIR:
#   cold build    CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' (the release
#                 build) with an empty GOCACHE; modules are downloaded first
#                 (`go mod download`, not timed) into the usual module cache.
#                 Wall time; peak memory two ways: the largest single process
#                 (GNU time's maximum RSS, when /usr/bin/time is GNU time) and
#                 the whole build's process tree (all compilers at once),
#                 sampled from /proc every 0.2 s.
#   binary        the size of that stripped binary, and what `file` says of it.
#   cold tests    go test ./... with another empty GOCACHE: wall time and peak.
#   benchmarks    go test -run '^$' -bench RE -benchmem ./... (warm cache).
#   first frame   `go run . --demo` with an empty GOCACHE in an 80x24 tmux
#                 window, until the screen shows "Sign in" (the wizard's first
#                 frame): what a new user waits on a fresh clone.
#
# Needs: bash, Go, git, and Linux's /proc (the build host of the README's
# figures). Optional: GNU time at /usr/bin/time (Debian/Ubuntu package "time")
# for the single-process peak, `file` for the binary's linkage, tmux for the
# first-frame timing. Each optional figure is reported as "n/a" when its tool
# is absent. gcc is needed only by `go run`/`go test` when cgo is on (Go's
# default when gcc is found); the release build does not use it.
#
# Cold figures are only comparable on the same machine under the same load:
# the load average is printed with the machine. Every temporary build cache is
# removed as soon as its figure is taken (a cold cache of the old tree is
# several GB).

set -euo pipefail

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; }

do_build=1 do_test=1 do_bench=1 do_demo=1 bench_re=.
labels=() dirs=()
while (($#)); do
	case $1 in
	--no-build) do_build=0 ;;
	--no-test) do_test=0 ;;
	--no-bench) do_bench=0 ;;
	--no-demo) do_demo=0 ;;
	--bench) shift; bench_re=${1:?--bench needs a regular expression} ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "measure.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	*=*) labels+=("${1%%=*}"); dirs+=("${1#*=}") ;;
	*) labels+=(""); dirs+=("$1") ;;
	esac
	shift
done
if ((${#dirs[@]} == 0)); then
	labels=("") dirs=("$(cd "$(dirname "$0")/.." && pwd)")
fi
for i in "${!dirs[@]}"; do
	d=$(cd "${dirs[$i]}" && pwd) || { echo "measure.sh: no directory ${dirs[$i]}" >&2; exit 2; }
	[[ -f $d/go.mod ]] || { echo "measure.sh: $d has no go.mod" >&2; exit 2; }
	dirs[$i]=$d
	if [[ -z ${labels[$i]} ]]; then
		labels[$i]=$(git -C "$d" log -1 --format=%h 2>/dev/null || basename "$d")
		if [[ -n $(git -C "$d" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
			labels[$i]+="+dirty"
		fi
	fi
done

command -v go >/dev/null || { echo "measure.sh: go is not on PATH" >&2; exit 2; }
[[ -r /proc/meminfo ]] || { echo "measure.sh: needs Linux /proc" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/measure.XXXXXX")
tmux_socket="measure-$$" # a tmux server of our own, never the user's
tmux_started=0
measured_pid=""
cleanup() {
	if [[ -n $measured_pid ]]; then kill -- "$measured_pid" 2>/dev/null || true; fi
	if ((tmux_started)); then tmux -L "$tmux_socket" kill-server 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

gnu_time="" single_how="sampled"
if [[ -x /usr/bin/time ]] && /usr/bin/time --version 2>&1 | grep -q 'GNU'; then
	gnu_time=/usr/bin/time single_how="GNU time"
fi
page_kb=$(($(getconf PAGESIZE) / 1024))

log() { printf '%s\n' "$*" >&2; }

now_ns() { date +%s%N; }

# tree_rss PID: the resident memory of PID and all its descendants, in KiB:
# "total largest-single-process".
tree_rss() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" -v pk="$page_kb" '
		{ line = $0; sub(/^[^ ]+ \(.*\) /, "", line); split(line, f, " ")
		  ppid[$1] = f[2]; rss[$1] = f[22] * pk }
		END {
			in_tree[root] = 1; grown = 1
			while (grown) { grown = 0
				for (p in ppid) if (!(p in in_tree) && (ppid[p] in in_tree)) { in_tree[p] = 1; grown = 1 } }
			for (p in in_tree) { total += rss[p]; if (rss[p] > top) top = rss[p] }
			printf "%d %d\n", total, top
		}'
}

# run_measured OUT CMD...: runs CMD (output to OUT.log), and writes to OUT
# "wall_seconds tree_peak_kib single_peak_kib exit_status"; single_peak is
# GNU time's maximum RSS when available, else the sampled largest process.
run_measured() {
	local out=$1; shift
	local start end pid status=0 peak=0 top=0 t s gt=""
	start=$(now_ns)
	if [[ -n $gnu_time ]]; then
		"$gnu_time" -f '%M' -o "$out.time" "$@" >"$out.log" 2>&1 &
	else
		"$@" >"$out.log" 2>&1 &
	fi
	pid=$! measured_pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		read -r t s < <(tree_rss "$pid")
		((t > peak)) && peak=$t
		((s > top)) && top=$s
		sleep 0.2
	done
	wait "$pid" || status=$?
	end=$(now_ns) measured_pid=""
	[[ -n $gnu_time && -s $out.time ]] && gt=$(tail -n1 "$out.time")
	[[ $gt =~ ^[0-9]+$ ]] && top=$gt
	echo "$(((end - start) / 1000000)) $peak $top $status" >"$out"
}

secs() { awk -v ms="$1" 'BEGIN { printf "%.0f s", ms / 1000 }'; }
gib() { awk -v k="$1" 'BEGIN { if (k >= 1048576) printf "%.2f GiB", k / 1048576; else printf "%.0f MiB", k / 1024 }'; }
mib_bytes() { awk -v b="$1" 'BEGIN { printf "%.1f MiB (%d bytes)", b / 1048576, b }'; }

# Figures by row: row_names keeps the order, cell[row,i] the values.
declare -a row_names=()
declare -A cell=()
put() { # put ROW COLUMN VALUE
	local r=$1
	[[ -v "seen[$r]" ]] || { row_names+=("$r"); seen[$r]=1; }
	cell["$r,$2"]=$3
}
declare -A seen=()

fresh_cache() { mktemp -d "$work/gocache.XXXXXX"; }

# Modules first (not timed), so that the figures are about compiling.
for i in "${!dirs[@]}"; do
	log "== ${labels[$i]}: go mod download"
	(cd "${dirs[$i]}" && go mod download) || { log "go mod download failed in ${dirs[$i]}"; exit 1; }
done

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

build_cmd="CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o mgmtsession ."
if ((do_build)); then
	for i in "${!dirs[@]}"; do
		log "== ${labels[$i]}: cold build: $build_cmd"
		cache=$(fresh_cache) bin="$work/bin.$i"
		(cd "${dirs[$i]}" && GOCACHE=$cache CGO_ENABLED=0 run_measured "$work/build.$i" go build -trimpath -ldflags='-s -w' -o "$bin" .)
		read -r ms peak top status <"$work/build.$i"
		rm -rf "$cache"
		if ((status != 0)); then
			log "build failed:"; tail -n 20 "$work/build.$i.log" >&2
			put "Cold build (empty GOCACHE)" "$i" "failed"; continue
		fi
		put "Cold build (empty GOCACHE)" "$i" "$(secs "$ms")"
		put "Cold build: peak memory, largest process ($single_how)" "$i" "$(gib "$top")"
		put "Cold build: peak memory, whole build (sampled)" "$i" "$(gib "$peak")"
		put "Stripped binary (CGO_ENABLED=0, -trimpath -s -w)" "$i" "$(mib_bytes "$(stat -c %s "$bin")")"
		if command -v file >/dev/null; then
			linkage=$(file -b "$bin" | grep -oE 'statically linked|dynamically linked|static-pie linked' | head -n1)
			put "Binary linkage (file)" "$i" "${linkage:-see file(1)}"
		else
			put "Binary linkage (file)" "$i" "n/a (no file)"
		fi
		rm -f "$bin"
	done
fi

test_cmd="go test ./..."
if ((do_test)); then
	for i in "${!dirs[@]}"; do
		log "== ${labels[$i]}: cold tests: $test_cmd"
		cache=$(fresh_cache)
		(cd "${dirs[$i]}" && GOCACHE=$cache run_measured "$work/test.$i" go test ./...)
		read -r ms peak top status <"$work/test.$i"
		rm -rf "$cache"
		result=$(secs "$ms")
		if ((status != 0)); then
			result+=" (FAILED)"
			log "tests failed:"; grep -E '^(--- FAIL|FAIL|ok )' "$work/test.$i.log" >&2 || true
		fi
		put "Cold go test ./... (empty GOCACHE)" "$i" "$result"
		put "Cold go test ./...: peak memory, whole run (sampled)" "$i" "$(gib "$peak")"
	done
fi

bench_cmd="go test -run '^\$' -bench '$bench_re' -benchmem ./..."
if ((do_bench)); then
	for i in "${!dirs[@]}"; do
		log "== ${labels[$i]}: benchmarks: $bench_cmd"
		out="$work/bench.$i"
		if ! (cd "${dirs[$i]}" && go test -run '^$' -bench "$bench_re" -benchmem ./... >"$out" 2>&1); then
			log "benchmarks failed:"; tail -n 20 "$out" >&2
		fi
		# "BenchmarkName-2   5   210000000 ns/op   17.0 requests/op ..." ->
		# row "BenchmarkName", value "210000000 ns/op, 17.0 requests/op, ..."
		while read -r name values; do
			put "${name%-*}" "$i" "$values"
		done < <(awk '/^Benchmark/ { n = $1; v = ""; for (k = 3; k < NF; k += 2) v = v (v ? ", " : "") $k " " $(k+1); print n, v }' "$out")
	done
fi

demo_cmd="go run . --demo (empty GOCACHE, 80x24 tmux, until \"Sign in\" shows)"
if ((do_demo)); then
	for i in "${!dirs[@]}"; do
		if ! command -v tmux >/dev/null; then
			put "go run . --demo to the first frame (empty GOCACHE)" "$i" "n/a (no tmux)"; continue
		fi
		log "== ${labels[$i]}: $demo_cmd"
		cache=$(fresh_cache)
		session="demo$i"
		start=$(now_ns)
		TMUX="" tmux -L "$tmux_socket" new-session -d -s "$session" -x 80 -y 24 -c "${dirs[$i]}" \
			"env GOCACHE='$cache' go run . --demo; echo MEASURE-EXITED; sleep 3600"
		tmux_started=1
		result="timed out (15 min)"
		deadline=$((start + 900 * 1000000000))
		while (($(now_ns) < deadline)); do
			screen=$(tmux -L "$tmux_socket" capture-pane -p -t "$session" 2>/dev/null || true)
			if grep -q 'Sign in' <<<"$screen"; then
				result=$(secs $((($(now_ns) - start) / 1000000))); break
			fi
			if grep -q 'MEASURE-EXITED' <<<"$screen"; then
				result="failed"; log "$screen"; break
			fi
			sleep 0.25
		done
		tmux -L "$tmux_socket" kill-session -t "$session" 2>/dev/null || true
		sleep 1 # let go run's children exit before the cache goes
		rm -rf "$cache"
		put "go run . --demo to the first frame (empty GOCACHE)" "$i" "$result"
	done
fi

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# The table.
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
echo "Measured $(date -u +%Y-%m-%d) with scripts/measure.sh on: ${cpu:-unknown CPU}, $(nproc) cores, $mem memory," \
	"$(go version | cut -d' ' -f3-), $(uname -sr); load average ${load_start} at the start, ${load_end} at the end."
echo
header="| figure |" rule="|---|"
for i in "${!dirs[@]}"; do header+=" ${labels[$i]} |"; rule+="---|"; done
echo "$header"
echo "$rule"
for r in "${row_names[@]}"; do
	line="| $r |"
	for i in "${!dirs[@]}"; do line+=" ${cell["$r,$i"]:-} |"; done
	echo "$line"
done
echo
echo "Commands (in each checkout; modules downloaded first):"
((do_build)) && echo "- cold build: \`GOCACHE=\$(mktemp -d) $build_cmd\`"
((do_test)) && echo "- cold tests: \`GOCACHE=\$(mktemp -d) $test_cmd\`"
((do_bench)) && echo "- benchmarks: \`$bench_cmd\` (warm cache)"
((do_demo)) && echo "- first frame: \`GOCACHE=\$(mktemp -d) go run . --demo\` in an 80x24 terminal, until the wizard's first frame"
exit 0
