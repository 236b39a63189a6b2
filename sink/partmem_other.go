//go:build !linux

package sink

// newPartBuffer returns a zeroed buffer of size bytes.
func newPartBuffer(size int64) []byte {
	return make([]byte, size)
}

// newPartRegion returns a zeroed buffer of size bytes from the Go heap,
// and no function to release it.
func newPartRegion(size int64) ([]byte, func()) {
	return make([]byte, size), nil
}
