package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzInvokeHTTP: no event may panic the shape detection or the
// conversion to and from an HTTP request; every event is either refused
// with an UnsupportedEventError or answered.
func FuzzInvokeHTTP(f *testing.F) {
	for _, name := range []string{"rest-v1.json", "http-v2.json", "function-url.json"} {
		f.Add([]byte(fixture(f, name)))
	}
	f.Add([]byte(`{"Records":[{"eventSource":"aws:sqs"}]}`))
	f.Add([]byte(`{"httpMethod":"POST","requestContext":{"elb":{}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := detect(json.RawMessage(b))
		if err != nil {
			var ue *UnsupportedEventError
			if !errors.As(err, &ue) {
				t.Fatalf("detect error %v is not an UnsupportedEventError", err)
			}
			return
		}
		if s == shapeSQS {
			return
		}
		out, err := serve(context.Background(), echo{}, s, json.RawMessage(b))
		if err == nil && out == nil {
			t.Fatal("no response and no error")
		}
	})
}
