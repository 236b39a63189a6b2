package rezip

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"unsafe"
)

// entry is what the streamer remembers of an entry until its central
// directory record arrives.
type entry struct {
	inOffset   uint64
	outOffset  uint64
	name       string // output name; "" for the dropped folder entry
	crc        uint32
	csize      uint64
	usize      uint64
	method     uint16
	dropped    bool
	descriptor bool // a data descriptor was written after the data
	seen       bool // matched by a central directory record
}

// entryChunk is how many entries are allocated at a time. The list grows
// by chunks rather than as one slice, which append would copy at every
// growth: for thousands of small files those copies and their garbage
// were four times the entries' own size, all of it fresh memory.
const entryChunk = 256

// entryList holds the entries in input order, so by increasing inOffset.
type entryList struct {
	chunks [][]entry
	n      int
}

func (l *entryList) len() int { return l.n }

func (l *entryList) at(i int) *entry { return &l.chunks[i/entryChunk][i%entryChunk] }

// add appends a zero entry and returns it, to be filled in place rather
// than copied in whole.
func (l *entryList) add() *entry {
	if l.n%entryChunk == 0 {
		l.chunks = append(l.chunks, make([]entry, entryChunk))
	}
	e := &l.chunks[len(l.chunks)-1][l.n%entryChunk]
	l.n++
	return e
}

// names yields the output names of the entries written, in order.
func (l *entryList) names(yield func(string) bool) {
	for i := range l.n {
		if e := l.at(i); !e.dropped && !yield(e.name) {
			return
		}
	}
}

// find returns the index of the entry whose local header starts at
// offset.
func (l *entryList) find(offset uint64) (int, bool) {
	i := sort.Search(l.n, func(i int) bool { return l.at(i).inOffset >= offset })
	return i, i < l.n && l.at(i).inOffset == offset
}

// streamer reads an archive front to back (see the package doc).
type streamer struct {
	br    *bufio.Reader
	w     *writer
	opts  Options
	names *namer
	res   Result

	off     uint64 // input bytes consumed
	entries entryList
	next    int    // the entry the next central record most likely names
	total   uint64 // uncompressed bytes, declared or decompressed

	hdr     [56]byte
	name    []byte
	extra   []byte
	outExt  []byte
	comment []byte
	buf     []byte // copy buffer
	tee     teeReader
	inflate io.ReadCloser
}

func newStreamer(br *bufio.Reader, w *writer, opts Options) *streamer {
	s := &streamer{br: br, w: w, opts: opts, buf: make([]byte, copyBufSize)}
	s.names = newNamer(opts.StripTopLevel, s.entries.names)
	return s
}

func (s *streamer) run() error {
	for {
		sig, err := s.br.Peek(4)
		if err != nil {
			return s.eof(err, "before the central directory")
		}
		switch {
		case bytes.Equal(sig, sigLocal[:]):
			if err := s.entry(); err != nil {
				return err
			}
		case bytes.Equal(sig, sigCentral[:]), bytes.Equal(sig, sigEnd[:]),
			bytes.Equal(sig, sigZip64End[:]), bytes.Equal(sig, sigSignature[:]):
			if err := s.directory(); err != nil {
				return err
			}
			s.res.Folder = s.names.folder
			return nil
		default:
			return fmt.Errorf("%w: unexpected bytes at offset %d: local headers do not chain", ErrCorrupt, s.off)
		}
	}
}

// eof turns the end of the input into a truncation error and passes other
// errors (source, destination, limits) through.
func (s *streamer) eof(err error, where string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: truncated at offset %d, %s", ErrCorrupt, s.off, where)
	}
	return err
}

func (s *streamer) read(p []byte, where string) error {
	n, err := io.ReadFull(s.br, p)
	s.off += uint64(n)
	if err != nil {
		return s.eof(err, where)
	}
	return nil
}

// readVar reads n bytes into *buf, reusing its storage.
func (s *streamer) readVar(buf *[]byte, n int, where string) ([]byte, error) {
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	b := (*buf)[:n]
	return b, s.read(b, where)
}

func (s *streamer) addUncompressed(n uint64, name string) error {
	s.total += n
	if s.total < n || s.total > uint64(s.opts.MaxUncompressed) {
		return fmt.Errorf("%w: uncompressed size over %d bytes at entry %s", ErrLimit, s.opts.MaxUncompressed, quote(name))
	}
	return nil
}

// entry copies one entry: local header, data and data descriptor.
func (s *streamer) entry() error {
	start := s.off
	h := s.hdr[:30]
	if err := s.read(h, "in a local header"); err != nil {
		return err
	}
	le := binary.LittleEndian
	readerVersion := le.Uint16(h[4:])
	flags := le.Uint16(h[6:])
	method := le.Uint16(h[8:])
	modTime, modDate := le.Uint16(h[10:]), le.Uint16(h[12:])
	crc := le.Uint32(h[14:])
	csize, usize := uint64(le.Uint32(h[18:])), uint64(le.Uint32(h[22:]))
	nameLen, extraLen := int(le.Uint16(h[26:])), int(le.Uint16(h[28:]))

	rawName, err := s.readVar(&s.name, nameLen, "in a local header")
	if err != nil {
		return err
	}
	extra, err := s.readVar(&s.extra, extraLen, "in a local header")
	if err != nil {
		return err
	}
	// name aliases s.name, which the next header read overwrites: it must
	// not outlive this call. The namer copies what it keeps (the output
	// name into its arena), and errors quote it at once. A copy of every
	// name would be garbage by the next entry, and raise the peak memory
	// of an archive of many entries by as much as the names it keeps.
	name := unsafe.String(unsafe.SliceData(rawName), len(rawName))
	if s.entries.len() >= s.opts.MaxEntries {
		return fmt.Errorf("%w: more than %d entries", ErrLimit, s.opts.MaxEntries)
	}
	if flags&(flagEncrypted|flagStrongEnc|flagMaskedCD) != 0 {
		return fmt.Errorf("%w: entry %s is encrypted", ErrUnsupported, quote(name))
	}
	z64, hasZ64 := findExtra(extra, extraZip64)
	if hasZ64 && (csize == max32 || usize == max32) {
		if len(z64) >= 16 { // both sizes, as 4.5.3 requires
			if usize == max32 {
				usize = le.Uint64(z64)
			}
			if csize == max32 {
				csize = le.Uint64(z64[8:])
			}
		} else {
			if usize == max32 && len(z64) >= 8 {
				usize, z64 = le.Uint64(z64), z64[8:]
			}
			if csize == max32 && len(z64) >= 8 {
				csize = le.Uint64(z64)
			}
		}
	}
	out, dropped, err := s.names.accept(name)
	if err != nil {
		return err
	}

	e := s.entries.add()
	e.inOffset, e.outOffset, e.name, e.method, e.dropped = start, s.w.off, out, method, dropped
	descriptor := flags&flagDescriptor != 0
	var dst io.Writer = s.w
	if dropped {
		dst = io.Discard
	} else {
		lh := header{
			readerVersion: readerVersion, flags: flags, method: method,
			modTime: modTime, modDate: modDate,
			crc: crc, csize: csize, usize: usize,
			name: out, extra: filterExtra(s.outExt, extra),
		}
		s.outExt = lh.extra
		if err := s.w.local(&lh, descriptor, hasZ64); err != nil {
			return err
		}
	}

	if !descriptor {
		if err := s.addUncompressed(usize, name); err != nil {
			return err
		}
		if err := s.copyData(dst, csize, name); err != nil {
			return err
		}
		e.crc, e.csize, e.usize = crc, csize, usize
	} else {
		switch method {
		case methodDeflate:
			err = s.inflateCopy(dst, e, name)
		case methodStore:
			err = s.scanStored(dst, e, name)
		default:
			err = fmt.Errorf("%w: entry %s: data descriptor after compression method %d", ErrUnsupported, quote(name), method)
		}
		if err != nil {
			return err
		}
		e.descriptor = true
		if !dropped {
			if err := s.w.descriptor(e.crc, e.csize, e.usize, hasZ64); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyData copies the next n bytes of the input, the data of the entry
// name, to dst straight from the read buffer, without a copy of its own.
func (s *streamer) copyData(dst io.Writer, n uint64, name string) error {
	for n > 0 {
		p, err := s.br.Peek(int(min(n, uint64(s.br.Size()))))
		if len(p) > 0 {
			if _, werr := dst.Write(p); werr != nil {
				return werr
			}
			s.br.Discard(len(p)) // cannot fail: the bytes are buffered
			s.off += uint64(len(p))
			n -= uint64(len(p))
			continue
		}
		return s.eof(err, "in the data of "+quote(name))
	}
	return nil
}

// entryAt returns the entry whose local header starts at offset, or nil.
// The central directory usually lists the entries in their order, so the
// entry after the last one found is tried first.
func (s *streamer) entryAt(offset uint64) *entry {
	i := s.next
	if i >= s.entries.len() || s.entries.at(i).inOffset != offset {
		var found bool
		if i, found = s.entries.find(offset); !found {
			return nil
		}
	}
	s.next = i + 1
	return s.entries.at(i)
}

// inputName is e's name as the input archive has it, before stripping.
func (s *streamer) inputName(e *entry) string {
	if s.names.strip {
		return s.names.folder + "/" + e.name
	}
	return e.name
}

// sameInputName reports whether raw is e's input name, without building it.
func (s *streamer) sameInputName(raw []byte, e *entry) bool {
	if !s.names.strip {
		return string(raw) == e.name
	}
	f := s.names.folder
	return len(raw) == len(f)+1+len(e.name) && string(raw[:len(f)]) == f &&
		raw[len(f)] == '/' && string(raw[len(f)+1:]) == e.name
}

// inflateCopy copies a deflated entry of unknown size: compress/flate reads
// the compressed bytes through a ByteReader, so it stops exactly at the end
// of the deflate stream, and every byte it reads is copied to dst.
func (s *streamer) inflateCopy(dst io.Writer, e *entry, name string) error {
	s.tee.reset(s.br, dst)
	if s.inflate == nil {
		s.inflate = flate.NewReader(&s.tee)
	} else if err := s.inflate.(flate.Resetter).Reset(&s.tee, nil); err != nil {
		return err
	}
	crc := uint32(0)
	var usize uint64
	for {
		n, err := s.inflate.Read(s.buf)
		crc = crc32.Update(crc, crc32.IEEETable, s.buf[:n])
		usize += uint64(n)
		if lerr := s.addUncompressed(uint64(n), name); lerr != nil {
			return lerr
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			s.off += s.tee.n
			var cerr flate.CorruptInputError
			if errors.As(err, &cerr) {
				return fmt.Errorf("%w: entry %s: %v", ErrCorrupt, quote(name), err)
			}
			return s.eof(err, "in the data of "+quote(name))
		}
	}
	if err := s.tee.flush(); err != nil {
		return err
	}
	s.off += s.tee.n
	e.crc, e.csize, e.usize = crc, s.tee.n, usize
	return s.readDescriptor(e, name)
}

// scanStored copies a stored entry of unknown size: its end is the first
// data descriptor signature followed by the CRC-32 and length of the bytes
// before it, and by the next record's signature.
func (s *streamer) scanStored(dst io.Writer, e *entry, name string) error {
	crc := uint32(0)
	var n uint64
	emit := func(p []byte) error {
		if _, err := dst.Write(p); err != nil {
			return err
		}
		crc = crc32.Update(crc, crc32.IEEETable, p)
		n += uint64(len(p))
		s.off += uint64(len(p))
		if _, err := s.br.Discard(len(p)); err != nil {
			return err
		}
		return s.addUncompressed(uint64(len(p)), name)
	}
	for {
		p, err := s.br.Peek(readBufSize)
		i := bytes.Index(p, sigDescriptor[:])
		if i < 0 {
			if err != nil {
				return s.eof(err, "looking for the data descriptor of "+quote(name))
			}
			// A signature may straddle the window's end.
			if err := emit(p[:len(p)-len(sigDescriptor)+1]); err != nil {
				return err
			}
			continue
		}
		if err := emit(p[:i]); err != nil {
			return err
		}
		e.crc, e.csize, e.usize = crc, n, n
		if s.readDescriptor(e, name) == nil {
			return nil
		}
		p, err = s.br.Peek(1)
		if err != nil {
			return s.eof(err, "in the data of "+quote(name))
		}
		if err := emit(p); err != nil {
			return err
		}
	}
}

// readDescriptor consumes the data descriptor that must follow e's data,
// with or without its signature, with 32- or 64-bit sizes, checking it
// against e's CRC and sizes and checking that a record follows it.
func (s *streamer) readDescriptor(e *entry, name string) error {
	p, perr := s.br.Peek(4 + 4 + 16 + 4)
	le := binary.LittleEndian
	for _, withSig := range []bool{true, false} {
		for _, wide := range []bool{false, true} {
			q := p
			if withSig {
				if len(q) < 4 || !bytes.Equal(q[:4], sigDescriptor[:]) {
					continue
				}
				q = q[4:]
			}
			if len(q) < 4 || le.Uint32(q) != e.crc {
				continue
			}
			q = q[4:]
			var csize, usize uint64
			if wide {
				if len(q) < 16 {
					continue
				}
				csize, usize, q = le.Uint64(q), le.Uint64(q[8:]), q[16:]
			} else {
				if len(q) < 8 {
					continue
				}
				csize, usize, q = uint64(le.Uint32(q)), uint64(le.Uint32(q[4:])), q[8:]
			}
			if csize != e.csize || usize != e.usize || len(q) < 4 || !isRecord(q[:4]) {
				continue
			}
			n := len(p) - len(q)
			if _, err := s.br.Discard(n); err != nil {
				return err
			}
			s.off += uint64(n)
			return nil
		}
	}
	if perr != nil && perr != io.EOF {
		return perr
	}
	return fmt.Errorf("%w: entry %s: no data descriptor matching its data at offset %d", ErrCorrupt, quote(name), s.off)
}

func isRecord(sig []byte) bool {
	for _, r := range [][4]byte{sigLocal, sigCentral, sigEnd, sigZip64End, sigSignature} {
		if bytes.Equal(sig, r[:]) {
			return true
		}
	}
	return false
}

// directory reads the input's central directory, checks each record against
// the entry already copied at its offset, and writes the output's central
// directory and end records.
func (s *streamer) directory() error {
	cdStart := s.off
	var records uint64
	le := binary.LittleEndian
	for {
		sig, err := s.br.Peek(4)
		if err != nil {
			return s.eof(err, "in the central directory")
		}
		if !bytes.Equal(sig, sigCentral[:]) {
			break
		}
		if err := s.centralRecord(); err != nil {
			return err
		}
		records++
	}
	cdSize := s.off - cdStart
	if records != uint64(s.entries.len()) {
		return fmt.Errorf("%w: %d local entries but %d central directory records", ErrCorrupt, s.entries.len(), records)
	}

	h := s.hdr[:]
	if sig, _ := s.br.Peek(4); bytes.Equal(sig, sigSignature[:]) {
		if err := s.read(h[:6], "in the digital signature"); err != nil {
			return err
		}
		if err := s.skip(uint64(le.Uint16(h[4:])), "in the digital signature"); err != nil {
			return err
		}
	}
	var z64 struct {
		ok                  bool
		count, size, offset uint64
	}
	if sig, _ := s.br.Peek(4); bytes.Equal(sig, sigZip64End[:]) {
		if err := s.read(h[:56], "in the zip64 end record"); err != nil {
			return err
		}
		if le.Uint32(h[16:]) != 0 || le.Uint32(h[20:]) != 0 || le.Uint64(h[24:]) != le.Uint64(h[32:]) {
			return fmt.Errorf("%w: split archive", ErrUnsupported)
		}
		z64.ok, z64.count, z64.size, z64.offset = true, le.Uint64(h[32:]), le.Uint64(h[40:]), le.Uint64(h[48:])
		if rest := le.Uint64(h[4:]); rest > 44 {
			if err := s.skip(rest-44, "in the zip64 end record"); err != nil {
				return err
			}
		}
		if sig, _ := s.br.Peek(4); bytes.Equal(sig, sigZip64Loc[:]) {
			if err := s.read(h[:20], "in the zip64 end locator"); err != nil {
				return err
			}
		}
	}
	if sig, _ := s.br.Peek(4); !bytes.Equal(sig, sigEnd[:]) {
		if _, err := s.br.Peek(4); err != nil {
			return s.eof(err, "before the end record")
		}
		return fmt.Errorf("%w: no end record at offset %d", ErrCorrupt, s.off)
	}
	if err := s.read(h[:22], "in the end record"); err != nil {
		return err
	}
	if le.Uint16(h[4:]) != 0 || le.Uint16(h[6:]) != 0 || le.Uint16(h[8:]) != le.Uint16(h[10:]) {
		return fmt.Errorf("%w: split archive", ErrUnsupported)
	}
	count, size, offset := uint64(le.Uint16(h[10:])), uint64(le.Uint32(h[12:])), uint64(le.Uint32(h[16:]))
	if z64.ok {
		if count == max16 {
			count = z64.count
		}
		if size == max32 {
			size = z64.size
		}
		if offset == max32 {
			offset = z64.offset
		}
	}
	if count != records || size != cdSize || offset != cdStart {
		return fmt.Errorf("%w: end record (%d records, %d bytes at %d) does not match the central directory (%d records, %d bytes at %d)",
			ErrCorrupt, count, size, offset, records, cdSize, cdStart)
	}
	comment, err := s.readVar(&s.comment, int(le.Uint16(h[20:])), "in the archive comment")
	if err != nil {
		return err
	}
	// Readers that search for the end record from the end of the file
	// must find this one: nothing may follow it, and the comment must not
	// hold another.
	if bytes.Contains(comment, sigEnd[:]) {
		return fmt.Errorf("%w: archive comment holds an end record signature", ErrCorrupt)
	}
	if _, err := s.br.Peek(1); err != io.EOF {
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: data after the end record at offset %d", ErrCorrupt, s.off)
	}
	return s.w.end(comment)
}

func (s *streamer) skip(n uint64, where string) error {
	m, err := io.CopyN(io.Discard, s.br, int64(min(n, 1<<62)))
	s.off += uint64(m)
	if err != nil {
		return s.eof(err, where)
	}
	return nil
}

// centralRecord reads one central directory record and writes its output
// counterpart.
func (s *streamer) centralRecord() error {
	h := s.hdr[:46]
	if err := s.read(h, "in the central directory"); err != nil {
		return err
	}
	le := binary.LittleEndian
	flags, method := le.Uint16(h[8:]), le.Uint16(h[10:])
	crc := le.Uint32(h[16:])
	csize, usize := uint64(le.Uint32(h[20:])), uint64(le.Uint32(h[24:]))
	nameLen, extraLen, commentLen := int(le.Uint16(h[28:])), int(le.Uint16(h[30:])), int(le.Uint16(h[32:]))
	disk := uint32(le.Uint16(h[34:]))
	offset := uint64(le.Uint32(h[42:]))

	rawName, err := s.readVar(&s.name, nameLen, "in the central directory")
	if err != nil {
		return err
	}
	extra, err := s.readVar(&s.extra, extraLen, "in the central directory")
	if err != nil {
		return err
	}
	comment, err := s.readVar(&s.comment, commentLen, "in the central directory")
	if err != nil {
		return err
	}
	if z64, ok := findExtra(extra, extraZip64); ok {
		for _, v := range []*uint64{&usize, &csize, &offset} {
			if *v == max32 && len(z64) >= 8 {
				*v, z64 = le.Uint64(z64), z64[8:]
			}
		}
		if disk == max16 && len(z64) >= 4 {
			disk = le.Uint32(z64)
		}
	}
	e := s.entryAt(offset)
	if e == nil {
		return fmt.Errorf("%w: central directory record %s points to offset %d, where no entry starts", ErrCorrupt, quote(string(rawName)), offset)
	}
	switch {
	case e.seen:
		return fmt.Errorf("%w: two central directory records for offset %d", ErrCorrupt, offset)
	case !s.sameInputName(rawName, e):
		return fmt.Errorf("%w: central directory name %s differs from the local name %s", ErrCorrupt, quote(string(rawName)), quote(s.inputName(e)))
	case flags&(flagEncrypted|flagStrongEnc|flagMaskedCD) != 0:
		return fmt.Errorf("%w: entry %s is encrypted", ErrUnsupported, quote(s.inputName(e)))
	case disk != 0:
		return fmt.Errorf("%w: split archive", ErrUnsupported)
	case method != e.method || crc != e.crc || csize != e.csize || usize != e.usize:
		return fmt.Errorf("%w: entry %s: central directory method, CRC or sizes differ from the local ones", ErrCorrupt, quote(s.inputName(e)))
	}
	e.seen = true
	if e.dropped {
		return nil
	}
	flags &^= flagDescriptor
	if e.descriptor {
		flags |= flagDescriptor
	}
	ch := header{
		creatorVersion: le.Uint16(h[4:]),
		readerVersion:  le.Uint16(h[6:]),
		flags:          flags,
		method:         method,
		modTime:        le.Uint16(h[12:]),
		modDate:        le.Uint16(h[14:]),
		crc:            crc,
		csize:          csize,
		usize:          usize,
		name:           e.name,
		extra:          filterExtra(s.outExt, extra),
		comment:        comment,
		internalAttrs:  le.Uint16(h[36:]),
		externalAttrs:  le.Uint32(h[38:]),
		offset:         e.outOffset,
	}
	s.outExt = ch.extra
	s.res.Entries++
	return s.w.central(&ch)
}

// teeReader gives compress/flate a ByteReader over the source and copies
// every byte flate consumes to out, so the compressed bytes are copied
// exactly as far as the deflate stream goes.
type teeReader struct {
	br   *bufio.Reader
	out  io.Writer
	pend []byte
	n    uint64
}

func (t *teeReader) reset(br *bufio.Reader, out io.Writer) {
	t.br, t.out, t.n = br, out, 0
	if t.pend == nil {
		t.pend = make([]byte, 0, copyBufSize)
	}
	t.pend = t.pend[:0]
}

func (t *teeReader) ReadByte() (byte, error) {
	if len(t.pend) == cap(t.pend) {
		if err := t.flush(); err != nil {
			return 0, err
		}
	}
	c, err := t.br.ReadByte()
	if err != nil {
		return 0, err
	}
	t.pend = append(t.pend, c)
	t.n++
	return c, nil
}

func (t *teeReader) Read(p []byte) (int, error) {
	if err := t.flush(); err != nil {
		return 0, err
	}
	n, err := t.br.Read(p)
	t.n += uint64(n)
	if _, werr := t.out.Write(p[:n]); werr != nil {
		return n, werr
	}
	return n, err
}

func (t *teeReader) flush() error {
	if len(t.pend) == 0 {
		return nil
	}
	_, err := t.out.Write(t.pend)
	t.pend = t.pend[:0]
	return err
}
