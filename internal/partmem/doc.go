// Package partmem allocates the memory of the S3 sink's part buffers: in
// 2 MiB pages where Linux offers transparent huge pages, and, for the
// buffers a sink keeps, outside the Go heap. The benchmark takes its
// measure of fresh memory from the same functions.
package partmem
