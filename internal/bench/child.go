package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/sink"
)

// touched keeps the memory of "child touch" alive until the process exits.
var touched []byte

// child runs one limit measurement in a process of its own:
//
//	child download URL
//	child upload FILE ENDPOINT BUCKET KEY
//	child touch MIB
func child(args []string) error {
	ctx := context.Background()
	switch {
	case len(args) == 2 && args[0] == "download":
		resp, err := http.Get(args[1])
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("download: %s", resp.Status)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	case len(args) == 5 && args[0] == "upload":
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return err
		}
		client := s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint, o.UsePathStyle = aws.String(args[2]), true
		})
		// The limit is measured with the uploader the S3 sink uses.
		//lint:ignore SA1019 see the S3 sink's choice of uploader
		up := manager.NewUploader(client, func(u *manager.Uploader) {
			u.PartSize, u.Concurrency = sink.DefaultPartSize, sink.DefaultConcurrency
		})
		//lint:ignore SA1019 see above
		_, err = up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(args[3]), Key: aws.String(args[4]), Body: f})
		return err
	case len(args) == 2 && args[0] == "touch":
		// Fresh memory, as the relay's part buffers are in a new process:
		// the time to touch it is printed; its release at exit shows in
		// the process's wall time.
		mib, err := strconv.Atoi(args[1])
		if err != nil || mib < 0 {
			return fmt.Errorf("touch: %q is not a number of MiB", args[1])
		}
		start := time.Now()
		touched = make([]byte, mib<<20)
		for i := 0; i < len(touched); i += 4096 {
			touched[i] = 1
		}
		fmt.Println(time.Since(start).Nanoseconds())
		return nil
	}
	return fmt.Errorf("usage: child download URL | child upload FILE ENDPOINT BUCKET KEY | child touch MIB")
}

// createBucket makes the benchmark's bucket, versioned as CodePipeline
// needs it.
func createBucket(srv *s3test.Server, name string) error {
	ctx := context.Background()
	client := benchClient(srv)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return err
	}
	_, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(name),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	return err
}

// emptyBucket deletes every version of every object in the bucket, so that
// each run writes to a server in the same state.
func emptyBucket(srv *s3test.Server, name string) error {
	ctx := context.Background()
	client := benchClient(srv)
	for {
		out, err := client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(name)})
		if err != nil {
			return err
		}
		if len(out.Versions)+len(out.DeleteMarkers) == 0 {
			return nil
		}
		del := func(key, version *string) error {
			_, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: key, VersionId: version})
			return err
		}
		for _, v := range out.Versions {
			if err := del(v.Key, v.VersionId); err != nil {
				return err
			}
		}
		for _, m := range out.DeleteMarkers {
			if err := del(m.Key, m.VersionId); err != nil {
				return err
			}
		}
	}
}

func benchClient(srv *s3test.Server) *s3.Client {
	return s3.New(s3.Options{
		Region: srv.Region(), BaseEndpoint: aws.String(srv.Endpoint()), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: srv.AccessKey(), SecretAccessKey: srv.SecretKey()}, nil
		}),
	})
}
