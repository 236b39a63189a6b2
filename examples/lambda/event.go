package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gitsource/gitsource"
)

// shape is the kind of event a Lambda invocation carries.
type shape int

const (
	shapeREST shape = iota + 1 // API Gateway REST API (payload 1.0), or an HTTP API set to 1.0
	shapeALB                   // Application Load Balancer target group
	shapeHTTP                  // HTTP API (payload 2.0) or Function URL
	shapeSQS                   // SQS event source mapping
)

func (s shape) String() string {
	switch s {
	case shapeREST:
		return "apigateway-rest"
	case shapeALB:
		return "alb"
	case shapeHTTP:
		return "http-api-or-function-url"
	case shapeSQS:
		return "sqs"
	}
	return "unknown"
}

// UnsupportedEventError reports an invocation whose event is none of the
// shapes this function answers. Lambda shows its name as the errorType.
type UnsupportedEventError struct {
	Detail string // what was seen, if anything
}

func (e *UnsupportedEventError) Error() string {
	msg := "unsupported event: want an API Gateway REST API (httpMethod), HTTP API or Function URL (version 2.0 with requestContext.http), ALB or SQS event"
	if e.Detail != "" {
		msg += "; " + e.Detail
	}
	return msg
}

// probe holds the fields that tell the shapes apart.
type probe struct {
	HTTPMethod     string `json:"httpMethod"`
	Version        string `json:"version"`
	RequestContext struct {
		HTTP *struct {
			Method string `json:"method"`
		} `json:"http"`
		ELB *struct {
			TargetGroupArn string `json:"targetGroupArn"`
		} `json:"elb"`
	} `json:"requestContext"`
	Records []struct {
		EventSource string `json:"eventSource"`
	} `json:"Records"`
}

// detect tells which shape raw has.
func detect(raw json.RawMessage) (shape, error) {
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return 0, &UnsupportedEventError{Detail: "the event is not a JSON object"}
	}
	switch {
	case len(p.Records) > 0:
		for _, r := range p.Records {
			if r.EventSource != "aws:sqs" {
				return 0, &UnsupportedEventError{Detail: fmt.Sprintf("a record's eventSource is %q", truncate(r.EventSource, 40))}
			}
		}
		return shapeSQS, nil
	case p.Version == "2.0" && p.RequestContext.HTTP != nil && p.RequestContext.HTTP.Method != "":
		return shapeHTTP, nil
	case p.HTTPMethod != "" && p.RequestContext.ELB != nil:
		return shapeALB, nil
	case p.HTTPMethod != "":
		return shapeREST, nil
	}
	return 0, &UnsupportedEventError{}
}

// serve runs one HTTP-shaped event through h and returns the response in
// the event's own response type.
func serve(ctx context.Context, h http.Handler, s shape, raw json.RawMessage) (any, error) {
	var (
		req    *http.Request
		err    error
		multi  bool // answer with multiValueHeaders
		answer func(rec *recorder) any
	)
	switch s {
	case shapeREST:
		var e events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("decoding the API Gateway event: %w", err)
		}
		req, err = restRequest(ctx, &e)
		answer = func(rec *recorder) any {
			body, b64 := rec.encodedBody()
			return events.APIGatewayProxyResponse{StatusCode: rec.status, MultiValueHeaders: rec.header, Body: body, IsBase64Encoded: b64}
		}
	case shapeALB:
		var e events.ALBTargetGroupRequest
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("decoding the ALB event: %w", err)
		}
		multi = len(e.MultiValueHeaders) > 0
		req, err = albRequest(ctx, &e)
		answer = func(rec *recorder) any {
			body, b64 := rec.encodedBody()
			r := events.ALBTargetGroupResponse{
				StatusCode: rec.status, StatusDescription: fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)),
				Body: body, IsBase64Encoded: b64,
			}
			// A target group answers in the form it was asked in.
			if multi {
				r.MultiValueHeaders = rec.header
			} else {
				r.Headers = joinHeaders(rec.header)
			}
			return r
		}
	case shapeHTTP:
		var e events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("decoding the HTTP API event: %w", err)
		}
		req, err = httpRequest(ctx, &e)
		answer = func(rec *recorder) any {
			body, b64 := rec.encodedBody()
			cookies := rec.header.Values("Set-Cookie")
			rec.header.Del("Set-Cookie")
			return events.APIGatewayV2HTTPResponse{StatusCode: rec.status, Headers: joinHeaders(rec.header), Body: body, IsBase64Encoded: b64, Cookies: cookies}
		}
	default:
		return nil, fmt.Errorf("serve: %v is not an HTTP event", s)
	}
	rec := newRecorder()
	if err != nil {
		// The event is well formed but its request is not (a body that is
		// not base64, a path that is not a path): answer as the handler
		// answers a malformed delivery.
		rec.writeAnswer(http.StatusBadRequest, gitsource.Answer{Status: "error", Message: err.Error()})
		return answer(rec), nil
	}
	h.ServeHTTP(rec, req)
	return answer(rec), nil
}

// restRequest turns an API Gateway REST (payload 1.0) event into a
// request. On a greedy {proxy+} resource the path is the proxied part, so
// that /hooks/{proxy+} serves /hooks/github as /github.
func restRequest(ctx context.Context, e *events.APIGatewayProxyRequest) (*http.Request, error) {
	path := e.Path
	if p, ok := e.PathParameters["proxy"]; ok && strings.Contains(e.Resource, "{proxy+}") {
		path = "/" + p
	}
	h := headersOf(e.Headers, e.MultiValueHeaders)
	q := queryOf(e.QueryStringParameters, e.MultiValueQueryStringParameters)
	return newRequest(ctx, e.HTTPMethod, path, q, h, e.Body, e.IsBase64Encoded, e.RequestContext.Identity.SourceIP)
}

// albRequest turns an ALB event into a request.
func albRequest(ctx context.Context, e *events.ALBTargetGroupRequest) (*http.Request, error) {
	h := headersOf(e.Headers, e.MultiValueHeaders)
	q := queryOf(e.QueryStringParameters, e.MultiValueQueryStringParameters)
	return newRequest(ctx, e.HTTPMethod, e.Path, q, h, e.Body, e.IsBase64Encoded, "")
}

// httpRequest turns an HTTP API (payload 2.0) or Function URL event into a
// request. A named stage's prefix is taken off rawPath, and a greedy
// {proxy+} route serves its proxied part, as for REST.
func httpRequest(ctx context.Context, e *events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	path := e.RawPath
	if p, ok := e.PathParameters["proxy"]; ok && strings.Contains(e.RouteKey, "{proxy+}") {
		path = "/" + p
	} else if st := e.RequestContext.Stage; st != "" && st != "$default" {
		if rest, ok := strings.CutPrefix(path, "/"+st); ok && (rest == "" || rest[0] == '/') {
			path = rest
		}
	}
	h := http.Header{}
	// Payload 2.0 joins repeated headers with commas; a signature or token
	// header is never repeated, so values are kept whole.
	for k, v := range e.Headers {
		h.Set(k, v)
	}
	if len(e.Cookies) > 0 {
		h.Set("Cookie", strings.Join(e.Cookies, "; "))
	}
	return newRequest(ctx, e.RequestContext.HTTP.Method, path, e.RawQueryString, h, e.Body, e.IsBase64Encoded, e.RequestContext.HTTP.SourceIP)
}

func newRequest(ctx context.Context, method, path, rawQuery string, h http.Header, body string, b64 bool, sourceIP string) (*http.Request, error) {
	data := []byte(body)
	if b64 {
		var err error
		if data, err = base64.StdEncoding.DecodeString(body); err != nil {
			return nil, errors.New("the body is marked base64 but is not")
		}
	}
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "\x00\r\n") {
		return nil, fmt.Errorf("invalid path %q", truncate(path, 40))
	}
	u := &url.URL{Path: path, RawQuery: rawQuery}
	req, err := http.NewRequestWithContext(ctx, method, u.RequestURI(), bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("invalid request: %w", err)
	}
	req.Header = h
	req.Host = h.Get("Host")
	req.RemoteAddr = sourceIP
	req.RequestURI = u.RequestURI()
	return req, nil
}

// headersOf merges the single- and multi-value header maps of a 1.0
// payload, canonicalising the names: API Gateway and ALB pass them in
// whatever case the client sent.
func headersOf(single map[string]string, multi map[string][]string) http.Header {
	h := http.Header{}
	if len(multi) > 0 {
		for k, vs := range multi {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		return h
	}
	for k, v := range single {
		h.Set(k, v)
	}
	return h
}

func queryOf(single map[string]string, multi map[string][]string) string {
	q := url.Values{}
	if len(multi) > 0 {
		for k, vs := range multi {
			q[k] = append(q[k], vs...)
		}
	} else {
		for k, v := range single {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

func joinHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		out[k] = strings.Join(vs, ", ")
	}
	return out
}

// recorder is the http.ResponseWriter of one invocation.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

// encodedBody returns the body as text, or base64 when it is not UTF-8.
func (r *recorder) encodedBody() (string, bool) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if utf8.Valid(r.body.Bytes()) {
		return r.body.String(), false
	}
	return base64.StdEncoding.EncodeToString(r.body.Bytes()), true
}

func (r *recorder) writeAnswer(status int, a gitsource.Answer) {
	r.header.Set("Content-Type", "application/json")
	r.header.Set("X-Content-Type-Options", "nosniff")
	r.WriteHeader(status)
	_ = json.NewEncoder(r).Encode(a)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
