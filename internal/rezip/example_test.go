package rezip_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"log"

	"github.com/gitsource/gitsource/internal/rezip"
)

func Example() {
	// An archive as a provider serves it: every file under one folder.
	var in bytes.Buffer
	zw := zip.NewWriter(&in)
	for _, name := range []string{"octo-hello-1a2b3c4/", "octo-hello-1a2b3c4/buildspec.yml"} {
		w, err := zw.Create(name)
		if err != nil {
			log.Fatal(err)
		}
		if name == "octo-hello-1a2b3c4/buildspec.yml" {
			io.WriteString(w, "version: 0.2\n")
		}
	}
	zw.Close()

	var out bytes.Buffer
	res, err := rezip.Reroot(&out, &in, rezip.Options{StripTopLevel: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("stripped %q, %d entries, spooled: %v\n", res.Folder, res.Entries, res.Spooled)

	zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range zr.File {
		fmt.Println(f.Name)
	}
	// Output:
	// stripped "octo-hello-1a2b3c4", 1 entries, spooled: false
	// buildspec.yml
}
