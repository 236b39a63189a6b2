// Package rezip re-roots a provider's zip archive into a CodeBuild-ready zip.
//
// Git hosting providers serve a commit's archive with every file under one
// top-level folder ("repo-<sha>/buildspec.yml"); CodeBuild wants
// buildspec.yml at the root. [Reroot] removes that folder from every entry
// name and copies each entry's compressed bytes unchanged: nothing is
// decompressed and recompressed, so the output costs little more than the
// copy itself and keeps every entry's CRC, method, times, Unix mode,
// executable bits and symlinks.
//
// # Streaming first
//
// The normal path reads the source once, front to back, and writes each entry
// as soon as it has been read, with a bounded amount of memory (a few fixed
// buffers, plus one small record per entry for the central directory). That
// lets an archive flow from the provider's socket to the sink's socket
// without ever touching the disk, whatever its size. The local file headers
// carry everything but the Unix modes, which live only in the central
// directory at the end of the archive; rezip therefore parses the input's
// central directory as it streams in, checks it against the entries already
// copied and writes the output's central directory from it.
//
// Entries whose sizes follow their data (a data descriptor, flag bit 3) are
// found by running compress/flate over the deflated bytes, which stops
// exactly at the end of the deflate stream, or, for stored entries, by
// searching for the descriptor's signature and confirming it with the running
// CRC-32 and length. Every descriptor is checked against the data.
//
// # The spool fallback
//
// An archive whose first bytes are not a local file header (a self-extracting
// archive, or any zip with a prefix) cannot be read front to back: its
// entries are only found from the central directory at the end. Only in that
// case, decided before a single byte is consumed, Reroot copies the source to
// a temporary file (at most [Options.MaxArchive] bytes, removed before Reroot
// returns, on every path) and reads it with archive/zip. [Result.Spooled]
// reports which path ran. Input that starts like a zip but cannot be followed
// sequentially (headers that do not chain, encrypted entries, a data
// descriptor after an unknown compression method) fails with a clear error
// instead: the bytes already consumed cannot be read again.
//
// # Safety
//
// Entry names are checked before they are written: absolute names, ".." or
// "." elements, empty elements, backslashes, control characters, duplicates
// and entries nested under a file or symlink are rejected with
// [ErrUnsafeName]. Entry counts, declared and decompressed sizes and the
// bytes read from the source are bounded ([ErrLimit]). So that every zip
// reader sees the same entries as rezip, the local and central headers of
// every entry must agree, nothing may follow the end record and the archive
// comment may not hold an end record signature ([ErrCorrupt]); the
// Info-ZIP Unicode path field, a second name some tools prefer, is dropped.
// No input makes Reroot panic.
//
// What rezip does not do: it does not verify the CRC-32 of entries it copies
// without decompressing (the reader of the output does), it does not judge
// symlink targets (a repository may link anywhere; what it refuses is an
// entry written through a symlink of the same archive), and it does not
// translate names: the UTF-8 flag and the bytes are kept as they are.
//
// On error, dst has received part of an archive that must be discarded.
package rezip
