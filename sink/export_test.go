package sink

// SetMaxParts lowers the part limit of multipart uploads for a test and
// returns the function that restores it.
func SetMaxParts(n int32) (restore func()) {
	old := maxParts
	maxParts = n
	return func() { maxParts = old }
}
