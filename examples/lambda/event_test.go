package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func fixture(t testing.TB, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		want    shape
		wantErr string
	}{
		{"REST API", `{"resource":"/{proxy+}","httpMethod":"POST","requestContext":{"stage":"prod"}}`, shapeREST, ""},
		{"HTTP API payload 1.0", `{"version":"1.0","httpMethod":"POST","requestContext":{}}`, shapeREST, ""},
		{"HTTP API payload 2.0", `{"version":"2.0","routeKey":"POST /github","requestContext":{"http":{"method":"POST"}}}`, shapeHTTP, ""},
		{"Function URL", `{"version":"2.0","routeKey":"$default","requestContext":{"domainName":"abc.lambda-url.cn-north-1.on.amazonwebservices.com.cn","http":{"method":"POST"}}}`, shapeHTTP, ""},
		{"ALB", `{"httpMethod":"POST","path":"/","requestContext":{"elb":{"targetGroupArn":"arn"}}}`, shapeALB, ""},
		{"SQS", `{"Records":[{"messageId":"1","eventSource":"aws:sqs"},{"messageId":"2","eventSource":"aws:sqs"}]}`, shapeSQS, ""},
		{"S3", `{"Records":[{"eventSource":"aws:s3"}]}`, 0, `eventSource is "aws:s3"`},
		{"SQS mixed with SNS", `{"Records":[{"eventSource":"aws:sqs"},{"EventSource":"aws:sns"}]}`, 0, `"aws:sns"`},
		{"version 2.0 without http", `{"version":"2.0","requestContext":{}}`, 0, "unsupported event"},
		{"EventBridge", `{"version":"0","detail-type":"Object Created","source":"aws.s3"}`, 0, "unsupported event"},
		{"empty object", `{}`, 0, "unsupported event"},
		{"array", `[1,2]`, 0, "not a JSON object"},
		{"string", `"hello"`, 0, "not a JSON object"},
		{"null", `null`, 0, "unsupported event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := detect(json.RawMessage(tt.event))
			if tt.wantErr != "" {
				var ue *UnsupportedEventError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("detect error = %v, want an UnsupportedEventError with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("detect = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// echo answers with what it was asked, as JSON, and sets a cookie and a
// repeated header so that responses can be checked.
type echo struct{}

type echoed struct {
	Method, Path, Query, Host, RemoteAddr string
	Header                                http.Header
	Body                                  string
}

func (echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Add("X-Repeated", "one")
	w.Header().Add("X-Repeated", "two")
	w.Header().Add("Set-Cookie", "a=1")
	w.WriteHeader(http.StatusTeapot)
	_ = json.NewEncoder(w).Encode(echoed{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.RemoteAddr, r.Header, string(body)})
}

func TestServe(t *testing.T) {
	const payload = `{"ref":"refs/heads/main","zen":"中文"}`
	b64 := base64.StdEncoding.EncodeToString([]byte(payload))
	tests := []struct {
		name      string
		event     json.RawMessage
		wantPath  string
		wantQuery string
		wantHdr   map[string][]string
		wantIP    string
	}{
		{
			name: "REST with multi-value headers", event: fixture(t, "rest-v1.json"), wantPath: "/github",
			wantQuery: "a=1&a=2",
			wantHdr:   map[string][]string{"X-Github-Event": {"push"}, "X-Hub-Signature-256": {"sha256=00"}, "Accept": {"a", "b"}},
			wantIP:    "203.0.113.7",
		},
		{
			name: "REST proxy resource", event: json.RawMessage(`{"resource":"/hooks/{proxy+}","path":"/hooks/gitlab","httpMethod":"POST",
				"pathParameters":{"proxy":"gitlab"},"headers":{"X-Gitlab-Event":"Push Hook"},"body":` + jsonString(payload) + `,"requestContext":{}}`),
			wantPath: "/gitlab", wantHdr: map[string][]string{"X-Gitlab-Event": {"Push Hook"}},
		},
		{
			name: "HTTP API, base64 body, named stage", event: fixture(t, "http-v2.json"), wantPath: "/github", wantQuery: "x=1",
			wantHdr: map[string][]string{"X-Github-Event": {"push"}, "Content-Type": {"application/json"}, "Cookie": {"c1=v1; c2=v2"}},
			wantIP:  "198.51.100.9",
		},
		{
			name: "Function URL", event: fixture(t, "function-url.json"), wantPath: "/",
			wantHdr: map[string][]string{"X-Gitee-Event": {"Push Hook"}, "X-Gitee-Token": {"tok,en"}},
			wantIP:  "192.0.2.1",
		},
		{
			name: "ALB single-value", event: json.RawMessage(`{"httpMethod":"POST","path":"/github","headers":{"x-github-event":"push"},
				"body":"` + b64 + `","isBase64Encoded":true,"requestContext":{"elb":{"targetGroupArn":"arn"}}}`),
			wantPath: "/github", wantHdr: map[string][]string{"X-Github-Event": {"push"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := detect(tt.event)
			if err != nil {
				t.Fatal(err)
			}
			out, err := serve(context.Background(), echo{}, s, tt.event)
			if err != nil {
				t.Fatal(err)
			}
			status, hdr, body := responseOf(t, out)
			if status != http.StatusTeapot {
				t.Errorf("status %d, want 418", status)
			}
			var got echoed
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if got.Method != http.MethodPost || got.Path != tt.wantPath || got.Query != tt.wantQuery {
				t.Errorf("request %s %s ? %s, want POST %s ? %s", got.Method, got.Path, got.Query, tt.wantPath, tt.wantQuery)
			}
			if got.Body != payload {
				t.Errorf("body %q, want %q", got.Body, payload)
			}
			for k, want := range tt.wantHdr {
				if g := got.Header[k]; strings.Join(g, "|") != strings.Join(want, "|") {
					t.Errorf("header %s = %q, want %q", k, g, want)
				}
			}
			if got.RemoteAddr != tt.wantIP {
				t.Errorf("remote address %q, want %q", got.RemoteAddr, tt.wantIP)
			}
			if s == shapeHTTP && hdr.Get("X-Test-Cookies") != "a=1" {
				t.Errorf("cookies %q, want a=1", hdr.Values("X-Test-Cookies"))
			}
			if hdr.Get("Content-Type") != "application/json" {
				t.Errorf("response Content-Type %q", hdr.Get("Content-Type"))
			}
			if v := strings.Join(hdr.Values("X-Repeated"), ","); v != "one,two" && v != "one, two" {
				t.Errorf("repeated response header = %q", v)
			}
		})
	}
}

// responseOf reads any of the three response types.
func responseOf(t *testing.T, out any) (int, http.Header, string) {
	t.Helper()
	h := http.Header{}
	decode := func(body string, b64 bool) string {
		if !b64 {
			return body
		}
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	switch r := out.(type) {
	case events.APIGatewayProxyResponse:
		for k, vs := range r.MultiValueHeaders {
			h[k] = vs
		}
		if r.Headers != nil {
			t.Errorf("REST response has single-value headers too: %v", r.Headers)
		}
		return r.StatusCode, h, decode(r.Body, r.IsBase64Encoded)
	case events.APIGatewayV2HTTPResponse:
		for k, v := range r.Headers {
			h.Add(k, v)
		}
		if h.Get("Set-Cookie") != "" {
			t.Errorf("Set-Cookie header %q: cookies go in the cookies field", h.Get("Set-Cookie"))
		}
		for _, c := range r.Cookies {
			h.Add("X-Test-Cookies", c)
		}
		return r.StatusCode, h, decode(r.Body, r.IsBase64Encoded)
	case events.ALBTargetGroupResponse:
		for k, v := range r.Headers {
			h.Add(k, v)
		}
		for k, vs := range r.MultiValueHeaders {
			h[k] = vs
		}
		if r.StatusDescription != "418 I'm a teapot" {
			t.Errorf("status description %q", r.StatusDescription)
		}
		return r.StatusCode, h, decode(r.Body, r.IsBase64Encoded)
	}
	t.Fatalf("response of type %T", out)
	return 0, nil, ""
}

func TestServeMalformedRequest(t *testing.T) {
	tests := []struct {
		name, event, want string
	}{
		{"body not base64", `{"version":"2.0","rawPath":"/github","requestContext":{"http":{"method":"POST"}},"body":"%%%","isBase64Encoded":true}`, "marked base64 but is not"},
		{"path with a newline", `{"httpMethod":"POST","path":"/git\nhub","requestContext":{}}`, "invalid path"},
		{"relative path", `{"httpMethod":"POST","path":"github","requestContext":{}}`, "invalid path"},
		{"bad method", `{"httpMethod":"PO ST","path":"/","requestContext":{}}`, "invalid request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := json.RawMessage(tt.event)
			s, err := detect(raw)
			if err != nil {
				t.Fatal(err)
			}
			out, err := serve(context.Background(), echo{}, s, raw)
			if err != nil {
				t.Fatal(err)
			}
			status, _, body := responseOf(t, out)
			if status != http.StatusBadRequest || !strings.Contains(body, tt.want) || !strings.Contains(body, `"status":"error"`) {
				t.Errorf("answer %d %s, want 400 with %q", status, body, tt.want)
			}
		})
	}
}

func TestBinaryBodyIsBase64(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		w.Write([]byte{'P', 'K', 3, 4, 0xff, 0xfe})
	})
	raw := json.RawMessage(`{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"}}}`)
	out, err := serve(context.Background(), h, shapeHTTP, raw)
	if err != nil {
		t.Fatal(err)
	}
	r := out.(events.APIGatewayV2HTTPResponse)
	if !r.IsBase64Encoded || r.Body != base64.StdEncoding.EncodeToString([]byte{'P', 'K', 3, 4, 0xff, 0xfe}) || r.StatusCode != http.StatusOK {
		t.Errorf("response %+v, want the bytes base64-encoded with 200", r)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
