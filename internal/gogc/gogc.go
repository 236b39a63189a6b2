// Package gogc sets the garbage collector's target for gitsource's
// commands.
//
// The S3 sink keeps its part buffers outside the Go heap (on Linux), so
// that the collector's goal, twice the live heap at Go's default GOGC of
// 100, does not double them in the peak memory. That leaves a relay's
// heap a few MiB, which the bookkeeping of a small archive's re-rooting
// fills: at 100 the collector would run during most such relays. Percent
// lets the garbage grow to twice the live heap instead, and the peak
// memory still does not grow with the archive (see BENCHMARKS.md).
package gogc

import "runtime/debug"

// Percent is the GOGC that Default sets.
const Percent = 200

// Default sets GOGC to Percent unless lookupEnv (os.LookupEnv) finds GOGC
// in the environment, where the runtime has already read it.
func Default(lookupEnv func(string) (string, bool)) {
	if _, set := lookupEnv("GOGC"); !set {
		debug.SetGCPercent(Percent)
	}
}
