package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gitsource/gitsource/internal/faultserver"
	"github.com/gitsource/gitsource/internal/fetch"
)

func ExampleClient_Do() {
	// A provider that fails twice before answering.
	fs := faultserver.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "PK...archive bytes")
	}))
	fs.Fail(2, http.StatusBadGateway)
	srv := httptest.NewServer(fs)
	defer srv.Close()

	c := fetch.New(fetch.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/archive.zip", nil)
	req.Header.Set("Authorization", "Bearer token")

	resp, err := c.Do(context.Background(), req)
	if err != nil {
		var se *fetch.StatusError
		if errors.As(err, &se) {
			fmt.Println("status", se.Code, "retryable", fetch.Retryable(err))
		}
		return
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		// A reset, stall or truncation mid-body: the caller may start again.
		fmt.Println("retryable:", fetch.Retryable(err))
		return
	}
	fmt.Println(resp.StatusCode, n, "bytes after", fs.Requests(), "requests")
	// Output: 200 18 bytes after 3 requests
}

func ExampleRedact() {
	req, _ := http.NewRequest(http.MethodGet, "https://gitee.com/api/v5/repos/o/r/zipball?ref=main&access_token=s3cr3t", nil)
	fmt.Println(fetch.Redact(req.URL))
	// Output: https://gitee.com/api/v5/repos/o/r/zipball?ref=main&access_token=REDACTED
}
