//go:build !linux

package partmem

// Buffer returns a zeroed buffer of size bytes.
func Buffer(size int64) []byte {
	return make([]byte, size)
}

// Region returns a zeroed buffer of size bytes from the Go heap,
// and no function to release it.
func Region(size int64) ([]byte, func()) {
	return make([]byte, size), nil
}
