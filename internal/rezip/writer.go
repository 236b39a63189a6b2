package rezip

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Zip record signatures (APPNOTE.TXT 4.3).
var (
	sigLocal      = [4]byte{'P', 'K', 3, 4}
	sigCentral    = [4]byte{'P', 'K', 1, 2}
	sigEnd        = [4]byte{'P', 'K', 5, 6}
	sigZip64End   = [4]byte{'P', 'K', 6, 6}
	sigZip64Loc   = [4]byte{'P', 'K', 6, 7}
	sigDescriptor = [4]byte{'P', 'K', 7, 8}
	sigSignature  = [4]byte{'P', 'K', 5, 5}
)

const (
	max16 = 0xffff
	max32 = 0xffffffff

	flagEncrypted  = 1 << 0
	flagDescriptor = 1 << 3
	flagStrongEnc  = 1 << 6
	flagMaskedCD   = 1 << 13

	methodStore   = 0
	methodDeflate = 8

	extraZip64       = 0x0001
	extraUnicodePath = 0x7075 // Info-ZIP: a second name some tools prefer

	versionZip64 = 45
)

// header holds what rezip writes for one entry. Extra never holds a zip64
// field: the writer adds one when the sizes or the offset need it.
type header struct {
	creatorVersion uint16 // central only
	readerVersion  uint16
	flags          uint16
	method         uint16
	modTime        uint16
	modDate        uint16
	crc            uint32
	csize, usize   uint64
	name           string
	extra          []byte
	comment        []byte // central only
	internalAttrs  uint16 // central only
	externalAttrs  uint32 // central only
	offset         uint64 // central only: the local header's output offset
}

// writer is a minimal zip writer: rezip needs to write headers it did not
// build itself (version made by, external attributes, raw times, data
// descriptors exactly where the input had them), which archive/zip.Writer
// does not allow.
type writer struct {
	out     io.Writer     // bw, or the destination itself when it buffers
	bw      *bufio.Writer // nil when the destination buffers
	off     uint64
	buf     []byte // scratch for one record
	cdStart uint64
	cdCount uint64
	started bool // central directory started
}

// bufferedWriter is a destination that buffers its writes in memory, as
// bufio.Writer and bytes.Buffer do: small writes cost it a copy, not a
// system call.
type bufferedWriter interface {
	io.Writer
	AvailableBuffer() []byte
}

// newWriter writes to dst through a buffer of its own, unless dst buffers
// already: a second buffer would only copy every byte once more.
func newWriter(dst io.Writer) *writer {
	if _, ok := dst.(bufferedWriter); ok {
		return &writer{out: dst}
	}
	bw := bufio.NewWriterSize(dst, writeBufSize)
	return &writer{out: bw, bw: bw}
}

// Write counts the bytes it passes on; entry data goes through it.
func (w *writer) Write(p []byte) (int, error) {
	n, err := w.out.Write(p)
	w.off += uint64(n)
	if err != nil {
		return n, fmt.Errorf("rezip: writing output: %w", err)
	}
	return n, nil
}

func (w *writer) flush() error {
	if w.bw == nil {
		return nil
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("rezip: writing output: %w", err)
	}
	return nil
}

// appendZip64 appends a zip64 extra field holding the given values.
func appendZip64(b []byte, vals ...uint64) []byte {
	b = binary.LittleEndian.AppendUint16(b, extraZip64)
	b = binary.LittleEndian.AppendUint16(b, uint16(8*len(vals)))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// local writes h's local file header. With a data descriptor the CRC and
// sizes are written as zero, and zip64 announces 64-bit descriptor sizes.
func (w *writer) local(h *header, descriptor, zip64 bool) error {
	var z64 []byte
	crc, csize, usize := h.crc, uint32(h.csize), uint32(h.usize)
	switch {
	case descriptor:
		crc, csize, usize = 0, 0, 0
		if zip64 {
			z64 = appendZip64(nil, 0, 0)
		}
	case h.csize >= max32 || h.usize >= max32:
		csize, usize = max32, max32
		z64 = appendZip64(nil, h.usize, h.csize) // both, in this order (4.5.3)
	}
	version := h.readerVersion
	if z64 != nil && version < versionZip64 {
		version = versionZip64
	}
	if len(h.name) > max16 || len(h.extra)+len(z64) > max16 {
		return fmt.Errorf("%w: entry %s: header too long", ErrLimit, quote(h.name))
	}
	b := append(w.buf[:0], sigLocal[:]...)
	b = le16(b, version)
	b = le16(b, h.flags)
	b = le16(b, h.method)
	b = le16(b, h.modTime)
	b = le16(b, h.modDate)
	b = le32(b, crc)
	b = le32(b, csize)
	b = le32(b, usize)
	b = le16(b, uint16(len(h.name)))
	b = le16(b, uint16(len(h.extra)+len(z64)))
	b = append(b, h.name...)
	b = append(b, z64...)
	b = append(b, h.extra...)
	w.buf = b
	_, err := w.Write(b)
	return err
}

// descriptor writes a data descriptor, with its signature.
func (w *writer) descriptor(crc uint32, csize, usize uint64, zip64 bool) error {
	b := append(w.buf[:0], sigDescriptor[:]...)
	b = le32(b, crc)
	if zip64 || csize >= max32 || usize >= max32 {
		b = binary.LittleEndian.AppendUint64(b, csize)
		b = binary.LittleEndian.AppendUint64(b, usize)
	} else {
		b = le32(b, uint32(csize))
		b = le32(b, uint32(usize))
	}
	w.buf = b
	_, err := w.Write(b)
	return err
}

// central writes h's central directory record.
func (w *writer) central(h *header) error {
	if !w.started {
		w.started, w.cdStart = true, w.off
	}
	w.cdCount++
	// Only the fields whose 32-bit value is saturated go in the zip64
	// extra, in this order (4.5.3).
	var vals []uint64
	csize, usize, offset := uint32(h.csize), uint32(h.usize), uint32(h.offset)
	if h.usize >= max32 {
		usize = max32
		vals = append(vals, h.usize)
	}
	if h.csize >= max32 {
		csize = max32
		vals = append(vals, h.csize)
	}
	if h.offset >= max32 {
		offset = max32
		vals = append(vals, h.offset)
	}
	var z64 []byte
	version := h.readerVersion
	if vals != nil {
		z64 = appendZip64(nil, vals...)
		version = max(version, versionZip64)
	}
	if len(h.name) > max16 || len(h.extra)+len(z64) > max16 || len(h.comment) > max16 {
		return fmt.Errorf("%w: entry %s: header too long", ErrLimit, quote(h.name))
	}
	b := append(w.buf[:0], sigCentral[:]...)
	b = le16(b, h.creatorVersion)
	b = le16(b, version)
	b = le16(b, h.flags)
	b = le16(b, h.method)
	b = le16(b, h.modTime)
	b = le16(b, h.modDate)
	b = le32(b, h.crc)
	b = le32(b, csize)
	b = le32(b, usize)
	b = le16(b, uint16(len(h.name)))
	b = le16(b, uint16(len(h.extra)+len(z64)))
	b = le16(b, uint16(len(h.comment)))
	b = le16(b, 0) // disk number start
	b = le16(b, h.internalAttrs)
	b = le32(b, h.externalAttrs)
	b = le32(b, offset)
	b = append(b, h.name...)
	b = append(b, z64...)
	b = append(b, h.extra...)
	b = append(b, h.comment...)
	w.buf = b
	_, err := w.Write(b)
	return err
}

// end writes the end of central directory record, preceded by the zip64
// records when the count, size or offset need them, and flushes.
func (w *writer) end(comment []byte) error {
	if !w.started {
		w.cdStart = w.off
	}
	cdSize := w.off - w.cdStart
	count, size, offset := w.cdCount, cdSize, w.cdStart
	b := w.buf[:0]
	if count >= max16 || size >= max32 || offset >= max32 {
		z64End := w.off
		b = append(b, sigZip64End[:]...)
		b = binary.LittleEndian.AppendUint64(b, 44) // size of the rest of this record
		b = le16(b, versionZip64)                   // version made by
		b = le16(b, versionZip64)                   // version needed
		b = le32(b, 0)                              // this disk
		b = le32(b, 0)                              // disk with the central directory
		b = binary.LittleEndian.AppendUint64(b, count)
		b = binary.LittleEndian.AppendUint64(b, count)
		b = binary.LittleEndian.AppendUint64(b, size)
		b = binary.LittleEndian.AppendUint64(b, offset)
		b = append(b, sigZip64Loc[:]...)
		b = le32(b, 0)
		b = binary.LittleEndian.AppendUint64(b, z64End)
		b = le32(b, 1) // total number of disks
		count, size, offset = min(count, max16), min(size, max32), min(offset, max32)
	}
	if len(comment) > max16 {
		comment = comment[:max16]
	}
	b = append(b, sigEnd[:]...)
	b = le16(b, 0)
	b = le16(b, 0)
	b = le16(b, uint16(count))
	b = le16(b, uint16(count))
	b = le32(b, uint32(size))
	b = le32(b, uint32(offset))
	b = le16(b, uint16(len(comment)))
	b = append(b, comment...)
	w.buf = b
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.flush()
}

func le16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func le32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

// filterExtra returns the extra fields of src without the zip64 field (the
// writer regenerates it) and the Info-ZIP Unicode path (a second name that
// some tools prefer to the checked one). Malformed trailing bytes are
// dropped. The result is appended to dst[:0].
func filterExtra(dst, src []byte) []byte {
	dst = dst[:0]
	for len(src) >= 4 {
		id := binary.LittleEndian.Uint16(src)
		size := int(binary.LittleEndian.Uint16(src[2:]))
		if 4+size > len(src) {
			break
		}
		if id != extraZip64 && id != extraUnicodePath {
			dst = append(dst, src[:4+size]...)
		}
		src = src[4+size:]
	}
	return dst
}

// findExtra returns the data of the first extra field with the given id.
func findExtra(extra []byte, id uint16) ([]byte, bool) {
	for len(extra) >= 4 {
		fid := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		if 4+size > len(extra) {
			return nil, false
		}
		if fid == id {
			return extra[4 : 4+size], true
		}
		extra = extra[4+size:]
	}
	return nil, false
}

// quote quotes a name for an error message, shortened: names can be 64 KiB.
func quote(name string) string {
	const maxLen = 120
	if len(name) > maxLen {
		return fmt.Sprintf("%q...", name[:maxLen])
	}
	return fmt.Sprintf("%q", name)
}
