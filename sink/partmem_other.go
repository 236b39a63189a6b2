//go:build !linux

package sink

// newPartBuffer returns a zeroed buffer of size bytes.
func newPartBuffer(size int64) []byte {
	return make([]byte, size)
}
