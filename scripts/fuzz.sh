#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (make fuzz).
#
# A failure counts when the fuzzer wrote a failing input to
# testdata/fuzz/TARGET. Go's fuzzer also fails with "context deadline
# exceeded" and writes nothing when -fuzztime runs out while a worker is
# still minimizing a new input: that is reported, and the target is run
# once more rather than failing the whole run.
set -uo pipefail
fuzztime=${FUZZTIME:-10s}
minimizetime=${FUZZMINIMIZETIME:-5s}

# inputs lists the failing inputs saved for a target, one path a line.
inputs() { find "$1/testdata/fuzz/$2" -type f 2>/dev/null | sort; }

for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		for attempt in 1 2; do
			echo "fuzz $pkg $target"
			before=$(inputs "$dir" "$target")
			out=$(go test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$pkg" 2>&1)
			status=$?
			echo "$out"
			[ "$status" -eq 0 ] && break
			if [ "$(inputs "$dir" "$target")" != "$before" ]; then
				echo "fuzz: $pkg $target found a failing input (testdata/fuzz/$target)" >&2
				exit 1
			fi
			if [ "$attempt" -eq 2 ] || ! grep -q 'context deadline exceeded' <<<"$out"; then
				echo "fuzz: $pkg $target failed" >&2
				exit 1
			fi
			echo "fuzz: $pkg $target ran out of time while minimizing, with no failing input: running it again" >&2
		done
	done
done
