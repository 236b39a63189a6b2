package sink

import "time"

// SetMaxParts lowers the part limit of multipart uploads for a test and
// returns the function that restores it.
func SetMaxParts(n int32) (restore func()) {
	old := maxParts
	maxParts = n
	return func() { maxParts = old }
}

// SetAbortTimeout changes the bound of aborts and of the parts in flight
// after a failure for a test, and returns the function that restores it.
func SetAbortTimeout(d time.Duration) (restore func()) {
	old := abortTimeout
	abortTimeout = d
	return func() { abortTimeout = old }
}
