package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/internal/benchzip"
)

func TestShuffledTurns(t *testing.T) {
	const runs, n = 15, 6
	turns := shuffledTurns(runs, n, 42)
	if len(turns) != runs {
		t.Fatalf("%d turns, want %d", len(turns), runs)
	}
	// Each turn runs every measurement once.
	for i, order := range turns {
		if sorted := slices.Sorted(slices.Values(order)); !slices.Equal(sorted, []int{0, 1, 2, 3, 4, 5}) {
			t.Errorf("turn %d: %v is not an order of the %d measurements", i, order, n)
		}
	}
	// No measurement always follows the same one, across the turns'
	// boundaries too.
	var seq []int
	for _, order := range turns {
		seq = append(seq, order...)
	}
	before := make([]map[int]bool, n)
	for i := range before {
		before[i] = map[int]bool{}
	}
	for k := 1; k < len(seq); k++ {
		before[seq[k]][seq[k-1]] = true
	}
	for j, preds := range before {
		if len(preds) < 3 {
			t.Errorf("measurement %d follows only %d others in %d turns", j, len(preds), runs)
		}
	}
	// The same seed gives the same orders, so a run can be repeated.
	if again := shuffledTurns(runs, n, 42); !slices.EqualFunc(turns, again, slices.Equal) {
		t.Error("the same seed gave other orders")
	}
}

func TestRunsFor(t *testing.T) {
	for _, c := range []struct {
		kind              benchzip.Kind
		runs, small, want int
	}{
		{benchzip.SmallFiles, 15, 41, 41},
		{benchzip.Mixed, 15, 41, 15},
		{benchzip.SmallFiles, 51, 41, 51}, // never fewer than -runs
		{benchzip.SmallFiles, 5, 0, 5},
	} {
		if got := runsFor(c.kind, c.runs, c.small); got != c.want {
			t.Errorf("runsFor(%v, %d, %d) = %d, want %d", c.kind, c.runs, c.small, got, c.want)
		}
	}
}

// TestReportNamesTheRunsTaken checks that the report speaks of the
// small-files archive's runs only when it took more than -runs.
func TestReportNamesTheRunsTaken(t *testing.T) {
	const clause = "41 for the small-files archive"
	if got := report("", "", "", "", "", "16MiB,256MiB", 15, 41, 41); !strings.Contains(got, clause) {
		t.Errorf("with the 16 MiB archive at 41 runs, the report does not say %q", clause)
	}
	if got := report("", "", "", "", "", "256MiB", 15, 41, 0); strings.Contains(got, "small-files archive,") {
		t.Errorf("with no small-files archive measured, the report still speaks of its runs")
	}
}
