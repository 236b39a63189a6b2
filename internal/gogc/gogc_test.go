package gogc

import (
	"runtime/debug"
	"testing"
)

func TestDefault(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)

	Default(func(string) (string, bool) { return "", false })
	if got := debug.SetGCPercent(100); got != Percent {
		t.Errorf("GOGC %d without GOGC in the environment, want %d", got, Percent)
	}
	Default(func(name string) (string, bool) { return "50", name == "GOGC" })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC %d with GOGC in the environment, want it left alone at 100", got)
	}
}
