package rezip

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
)

// spool copies src to a temporary file, which it always removes, and
// re-roots the archive from there with archive/zip, which finds the entries
// from the central directory wherever the archive starts in the file.
func spool(src io.Reader, w *writer, opts Options) (res Result, err error) {
	f, err := os.CreateTemp(opts.TempDir, "rezip-*.zip")
	if err != nil {
		return res, fmt.Errorf("rezip: spooling: %w", err)
	}
	defer func() {
		cerr := f.Close()
		rerr := os.Remove(f.Name())
		if err == nil {
			err = errors.Join(cerr, rerr)
		}
	}()
	buf := make([]byte, copyBufSize)
	size, err := io.CopyBuffer(f, src, buf)
	if err != nil {
		return res, fmt.Errorf("rezip: spooling: %w", err)
	}
	zr, err := zip.NewReader(f, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // rezip checks names itself
		return res, fmt.Errorf("%w: %v", ErrNotZip, err)
	}
	if len(zr.File) > opts.MaxEntries {
		return res, fmt.Errorf("%w: more than %d entries", ErrLimit, opts.MaxEntries)
	}

	type written struct {
		f      *zip.File
		name   string
		offset uint64
	}
	var out []written
	names := newNamer(opts.StripTopLevel, func(yield func(string) bool) {
		for _, o := range out {
			if !yield(o.name) {
				return
			}
		}
	})
	var total uint64
	var extra []byte
	for _, zf := range zr.File {
		if zf.Flags&(flagEncrypted|flagStrongEnc|flagMaskedCD) != 0 {
			return res, fmt.Errorf("%w: entry %s is encrypted", ErrUnsupported, quote(zf.Name))
		}
		total += zf.UncompressedSize64
		if total < zf.UncompressedSize64 || total > uint64(opts.MaxUncompressed) {
			return res, fmt.Errorf("%w: uncompressed size over %d bytes at entry %s", ErrLimit, opts.MaxUncompressed, quote(zf.Name))
		}
		name, dropped, err := names.accept(zf.Name)
		if err != nil {
			return res, err
		}
		if dropped {
			continue
		}
		h := fileHeader(zf, name, filterExtra(extra, zf.Extra))
		extra = h.extra
		offset := w.off
		if err := w.local(&h, false, false); err != nil {
			return res, err
		}
		raw, err := zf.OpenRaw()
		if err != nil {
			return res, fmt.Errorf("%w: entry %s: %v", ErrCorrupt, quote(zf.Name), err)
		}
		n, err := io.CopyBuffer(w, raw, buf)
		if err != nil {
			return res, err
		}
		if uint64(n) != zf.CompressedSize64 {
			return res, fmt.Errorf("%w: entry %s: truncated data", ErrCorrupt, quote(zf.Name))
		}
		out = append(out, written{zf, name, offset})
	}
	for _, o := range out {
		h := fileHeader(o.f, o.name, filterExtra(extra, o.f.Extra))
		extra = h.extra
		h.offset = o.offset
		if err := w.central(&h); err != nil {
			return res, err
		}
	}
	res.Entries, res.Folder = len(out), names.folder
	return res, w.end([]byte(zr.Comment))
}

// fileHeader builds the output header of zf from its central directory
// record. The data is written with its sizes known, so without a data
// descriptor.
func fileHeader(zf *zip.File, name string, extra []byte) header {
	return header{
		creatorVersion: zf.CreatorVersion,
		readerVersion:  zf.ReaderVersion,
		flags:          zf.Flags &^ flagDescriptor,
		method:         zf.Method,
		// The raw MS-DOS fields, copied as they are rather than
		// rebuilt from Modified.
		modTime:       zf.ModifiedTime,
		modDate:       zf.ModifiedDate,
		crc:           zf.CRC32,
		csize:         zf.CompressedSize64,
		usize:         zf.UncompressedSize64,
		name:          name,
		extra:         extra,
		comment:       []byte(zf.Comment),
		externalAttrs: zf.ExternalAttrs,
	}
}
