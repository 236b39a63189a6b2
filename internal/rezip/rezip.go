package rezip

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Defaults for the zero values of [Options].
const (
	DefaultMaxEntries      = 200_000
	DefaultMaxUncompressed = 16 << 30 // 16 GiB
	DefaultMaxArchive      = 2 << 30  // 2 GiB
)

// Errors returned by [Reroot], wrapped with details (entry name, offset);
// check them with errors.Is.
var (
	// ErrNotZip means the input is not a zip archive at all: empty, an
	// HTML error page, a gzip file.
	ErrNotZip = errors.New("rezip: not a zip archive")
	// ErrCorrupt means the input is a damaged or truncated zip archive,
	// or its local and central headers disagree.
	ErrCorrupt = errors.New("rezip: corrupt zip archive")
	// ErrUnsupported means a valid zip feature rezip does not handle:
	// encryption, split archives, a data descriptor after a compression
	// method other than store and deflate.
	ErrUnsupported = errors.New("rezip: unsupported zip archive")
	// ErrUnsafeName means an entry name that could escape the extraction
	// directory or be read differently by different tools.
	ErrUnsafeName = errors.New("rezip: unsafe entry name")
	// ErrLayout means an entry outside the single top-level folder that
	// [Options.StripTopLevel] expects.
	ErrLayout = errors.New("rezip: entry outside the top-level folder")
	// ErrLimit means a limit of [Options] was exceeded.
	ErrLimit = errors.New("rezip: limit exceeded")
)

// Options controls [Reroot]. The zero value keeps names as they are and
// applies the default limits.
type Options struct {
	// StripTopLevel removes the single top-level folder that holds every
	// entry, whatever its name; an entry outside that folder is an
	// [ErrLayout] error. When false, names are kept as they are (Bitbucket
	// Data Center archives have no folder).
	StripTopLevel bool
	// MaxEntries bounds the number of entries; 0 means DefaultMaxEntries.
	MaxEntries int
	// MaxUncompressed bounds the sum of the entries' uncompressed sizes,
	// declared or, where rezip decompresses to find an entry's end,
	// actual; 0 means DefaultMaxUncompressed.
	MaxUncompressed int64
	// MaxArchive bounds the bytes read from the source; 0 means
	// DefaultMaxArchive.
	MaxArchive int64
	// TempDir is where the spool fallback puts its temporary file; ""
	// means os.TempDir().
	TempDir string
}

func (o Options) withDefaults() Options {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxUncompressed <= 0 {
		o.MaxUncompressed = DefaultMaxUncompressed
	}
	if o.MaxArchive <= 0 {
		o.MaxArchive = DefaultMaxArchive
	}
	return o
}

// Result describes a finished [Reroot].
type Result struct {
	// Entries is the number of entries written (the stripped folder's own
	// entry is not counted).
	Entries int
	// Folder is the stripped top-level folder's name, without a slash; ""
	// when nothing was stripped.
	Folder string
	// ArchiveBytes is the number of bytes read from the source.
	ArchiveBytes int64
	// OutputBytes is the number of bytes written to the destination.
	OutputBytes int64
	// Spooled reports that the source was copied to a temporary file
	// because it could not be read front to back (see the package doc).
	Spooled bool
}

// readBufSize is large enough for any header lookahead and for copies at
// disk or loopback speed.
const (
	readBufSize  = 64 << 10
	copyBufSize  = 128 << 10
	writeBufSize = 64 << 10
)

// Reroot reads the zip archive from src and writes to dst the same entries,
// with their compressed bytes copied unchanged and, with
// [Options.StripTopLevel], the top-level folder removed from their names.
// It streams when it can and spools to a temporary file only for archives
// with a prefix (see the package doc). On error, the bytes written to dst are
// not a valid archive and must be discarded.
//
// A dst that buffers in memory, one with an AvailableBuffer method as
// bufio.Writer and bytes.Buffer have, receives the headers and the entries'
// data as they are read, in writes of any size; any other dst receives
// writes of a buffer's size.
func Reroot(dst io.Writer, src io.Reader, opts Options) (Result, error) {
	opts = opts.withDefaults()
	lr := &limitReader{r: src, max: opts.MaxArchive}
	br := bufio.NewReaderSize(lr, readBufSize)
	w := newWriter(dst)

	sig, err := br.Peek(4)
	if len(sig) == 0 {
		if err == nil || err == io.EOF {
			return Result{}, fmt.Errorf("%w: empty input", ErrNotZip)
		}
		return Result{}, err
	}
	var res Result
	if bytes.Equal(sig, sigLocal[:]) || bytes.Equal(sig, sigEnd[:]) {
		s := newStreamer(br, w, opts)
		err = s.run()
		res = s.res
	} else {
		res, err = spool(br, w, opts)
		res.Spooled = true
	}
	res.ArchiveBytes = lr.n
	res.OutputBytes = int64(w.off)
	return res, err
}

// limitReader counts the bytes read from the source and fails with ErrLimit
// once more than max bytes are available.
type limitReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n >= l.max {
		var probe [1]byte
		n, err := l.r.Read(probe[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: archive larger than %d bytes", ErrLimit, l.max)
		}
		return 0, readErr(err)
	}
	if rem := l.max - l.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, readErr(err)
}

func readErr(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return fmt.Errorf("rezip: reading source: %w", err)
}
