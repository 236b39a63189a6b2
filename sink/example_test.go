package sink_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/gitsource/gitsource/sink"
)

func ExampleNewFile() {
	dir, err := os.MkdirTemp("", "artifacts")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := sink.NewFile(dir)
	if err != nil {
		log.Fatal(err)
	}
	obj, err := s.Put(context.Background(), "octo/hello/feature/login.zip",
		strings.NewReader("zip bytes"),
		sink.Metadata{
			sink.RevisionSummaryKey: "修复登录 (a1b2c3d)",
			"gitsource-ref":         "feature/login",
		})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(obj.Key, obj.Size)

	meta, err := os.ReadFile(obj.Location + sink.MetadataSuffix)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(meta))
	// Output:
	// octo/hello/feature/login.zip 9
	// {
	//   "codepipeline-artifact-revision-summary": "修复登录 (a1b2c3d)",
	//   "gitsource-ref": "feature/login"
	// }
}

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "artifacts")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The value of GITSOURCE_SINK; s3://bucket/prefix?region=cn-north-1
	// would store in S3 instead.
	s, err := sink.Open(context.Background(), "file://"+dir)
	if err != nil {
		log.Fatal(err)
	}
	_, err = s.Put(context.Background(), "../escape.zip", strings.NewReader("x"), nil)
	fmt.Println(err)
	// Output:
	// sink: key "../escape.zip": ".." path element: invalid key
}
