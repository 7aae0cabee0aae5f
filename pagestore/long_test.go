//go:build long

package pagestore

import "testing"

// The sizes: a 256 MiB nat stored twice grows the store by less
// than 1 MiB, and with one byte inserted in the middle by less than 1 MiB.
func TestDedupLong(t *testing.T) {
	testDedup(t, 256<<20, 1<<20, 1<<20)
}

func TestCrashLong(t *testing.T) {
	runCrashRounds(t, crashRounds(300), false)
	runCrashRounds(t, crashRounds(300)/5, true)
}
