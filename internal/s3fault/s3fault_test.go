package s3fault

import (
	"net/http/httptest"
	"testing"
)

func TestOpOf(t *testing.T) {
	tests := []struct {
		method, target string
		want           Op
	}{
		{"PUT", "/bucket/a/b.zip", PutObject},
		{"PUT", "/bucket/a.zip?partNumber=2&uploadId=x", UploadPart},
		{"POST", "/bucket/a.zip?uploads", CreateMultipartUpload},
		{"POST", "/bucket/a.zip?uploadId=x", CompleteMultipartUpload},
		{"DELETE", "/bucket/a.zip?uploadId=x", AbortMultipartUpload},
		{"HEAD", "/bucket/a.zip", HeadObject},
		{"PUT", "/bucket", Other},
		{"PUT", "/bucket?versioning", Other},
		{"GET", "/bucket/a.zip", Other},
	}
	for _, tt := range tests {
		if got := OpOf(httptest.NewRequest(tt.method, tt.target, nil)); got != tt.want {
			t.Errorf("OpOf(%s %s) = %s, want %s", tt.method, tt.target, got, tt.want)
		}
	}
}

func TestFaultsAreConsumedInOrder(t *testing.T) {
	p := New("http://127.0.0.1:1")
	p.Fail(UploadPart, 2, SlowDown)
	p.Fail(Any, 1, InternalError)
	var got []int
	for range 4 {
		rec := httptest.NewRecorder()
		// Past the faults the request is forwarded to port 1, which fails: 502.
		p.ServeHTTP(rec, httptest.NewRequest("PUT", "/b/k?partNumber=1&uploadId=u", nil))
		got = append(got, rec.Code)
	}
	want := []int{503, 503, 500, 502}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses = %v, want %v", got, want)
		}
	}
	if p.Count(UploadPart) != 4 || p.Faulted(UploadPart) != 3 {
		t.Errorf("Count = %d, Faulted = %d; want 4 and 3", p.Count(UploadPart), p.Faulted(UploadPart))
	}
}
