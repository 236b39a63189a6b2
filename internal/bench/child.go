package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/sink"
)

// child runs one limit measurement in a process of its own:
//
//	child download URL
//	child upload FILE ENDPOINT BUCKET KEY
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
	}
	return fmt.Errorf("usage: child download URL | child upload FILE ENDPOINT BUCKET KEY")
}

// createBucket makes the benchmark's versioned bucket.
func createBucket(srv *s3test.Server, name string) error {
	ctx := context.Background()
	client := s3.New(s3.Options{
		Region: srv.Region(), BaseEndpoint: aws.String(srv.Endpoint()), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: srv.AccessKey(), SecretAccessKey: srv.SecretKey()}, nil
		}),
	})
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	return err
}
