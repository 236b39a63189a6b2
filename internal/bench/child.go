package main

import (
	"context"
	"errors"
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

	"github.com/gitsource/gitsource/internal/partmem"
	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/sink"
)

// touched keeps the memory of "child touch" alive until the process exits.
var touched []byte

// child runs one limit measurement in a process of its own:
//
//	child download URL
//	child upload FILE ENDPOINT BUCKET KEY
//	child pipe-sdk URL ENDPOINT BUCKET KEY
//	child pipe-sink URL SINK KEY
//	child touch MIB [huge]
func child(args []string) error {
	ctx := context.Background()
	switch {
	case len(args) == 2 && args[0] == "download":
		body, err := get(args[1])
		if err != nil {
			return err
		}
		defer body.Close()
		_, err = io.Copy(io.Discard, body)
		return err
	case len(args) == 5 && args[0] == "upload":
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		return sdkUpload(ctx, f, args[2], args[3], args[4])
	case len(args) == 5 && args[0] == "pipe-sdk":
		// The simplest relay the SDK makes: the download streamed,
		// untouched, into its uploader.
		body, err := get(args[1])
		if err != nil {
			return err
		}
		defer body.Close()
		return sdkUpload(ctx, body, args[2], args[3], args[4])
	case len(args) == 4 && args[0] == "pipe-sink":
		// The relay without the re-rooting, the ref's look-up and the
		// check of what the key holds: the download streamed, untouched,
		// into gitsource's S3 sink.
		body, err := get(args[1])
		if err != nil {
			return err
		}
		defer body.Close()
		s, err := sink.Open(ctx, args[2])
		if err != nil {
			return err
		}
		_, err = s.Put(ctx, args[3], body, nil)
		return err
	case (len(args) == 2 || len(args) == 3 && args[2] == "huge") && args[0] == "touch":
		// Fresh memory, as the relay's part buffers are in a new process:
		// the time to touch it is printed; its release at exit shows in
		// the process's wall time. With "huge", the memory is taken as
		// the S3 sink takes its part buffers (2 MiB pages on Linux).
		mib, err := strconv.Atoi(args[1])
		if err != nil || mib < 0 {
			return fmt.Errorf("touch: %q is not a number of MiB", args[1])
		}
		start := time.Now()
		if len(args) == 3 {
			touched, _ = partmem.Region(int64(mib) << 20)
		} else {
			touched = make([]byte, mib<<20)
		}
		for i := 0; i < len(touched); i += 4096 {
			touched[i] = 1
		}
		fmt.Println(time.Since(start).Nanoseconds())
		return nil
	}
	return errors.New("usage: child download URL | child upload FILE ENDPOINT BUCKET KEY | child pipe-sdk URL ENDPOINT BUCKET KEY | child pipe-sink URL SINK KEY | child touch MIB [huge]")
}

// get starts the download of url and returns its body.
func get(url string) (io.ReadCloser, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("download: %s", resp.Status)
	}
	return resp.Body, nil
}

// sdkUpload stores body as bucket/key at endpoint with the SDK's uploader,
// with the S3 sink's part size and concurrency. A file is read in place;
// any other body is read part by part into the uploader's buffers.
func sdkUpload(ctx context.Context, body io.Reader, endpoint, bucket, key string) error {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint, o.UsePathStyle = aws.String(endpoint), true
	})
	// The SDK's own uploader, which the S3 sink's upload replaces.
	//lint:ignore SA1019 see the S3 sink's choice of uploader
	up := manager.NewUploader(client, func(u *manager.Uploader) {
		u.PartSize, u.Concurrency = sink.DefaultPartSize, sink.DefaultConcurrency
	})
	//lint:ignore SA1019 see above
	_, err = up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: body})
	return err
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
