package fakehost

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fakeT is a T that runs its cleanups when told, to see what Start
// registers.
type fakeT struct {
	*testing.T
	cleanups []func()
}

func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func TestStartClosesOnCleanup(t *testing.T) {
	ft := &fakeT{T: t}
	srv := Start(ft, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" || len(ft.cleanups) != 1 {
		t.Fatalf("body %q, %d cleanups", b, len(ft.cleanups))
	}
	ft.cleanups[0]()
	if _, err := http.Get(srv.URL); err == nil {
		t.Error("the server answered after its cleanup")
	}
}

func TestRecorder(t *testing.T) {
	type req struct{ Method, Path string }
	var rec Recorder[req]
	h := rec.Wrap(http.NotFoundHandler(), func(r *http.Request) req { return req{r.Method, r.URL.Path} })
	for _, p := range []string{"/a", "/b/c"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	got := rec.Requests()
	if len(got) != 2 || got[0] != (req{"GET", "/a"}) || got[1] != (req{"GET", "/b/c"}) {
		t.Fatalf("Requests = %v", got)
	}
	got[0].Path = "/changed"
	if rec.Requests()[0].Path != "/a" {
		t.Error("Requests shares its slice with the recorder")
	}
	rec.Clear()
	if n := len(rec.Requests()); n != 0 {
		t.Errorf("%d requests after Clear", n)
	}
}

func TestServeZip(t *testing.T) {
	for _, tc := range []struct {
		name, method, body string
		size               int64
		want               string
	}{
		{"get", http.MethodGet, "PK zip", 6, "PK zip"},
		{"head", http.MethodHead, "PK zip", 6, ""},
		{"longer body is cut at size", http.MethodGet, "PK zip and more", 6, "PK zip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			w.Header().Set("Content-Disposition", "attachment; filename=x.zip")
			ServeZip(w, httptest.NewRequest(tc.method, "/x.zip", nil), strings.NewReader(tc.body), tc.size)
			h := w.Result().Header
			if w.Code != 200 || w.Body.String() != tc.want || h.Get("Content-Type") != "application/zip" ||
				h.Get("Content-Length") != "6" || h.Get("Content-Disposition") == "" {
				t.Errorf("%d %q %v", w.Code, w.Body.String(), h)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusNotFound, "application/json;charset=utf-8", map[string]string{"message": "Not Found"})
	if w.Code != 404 || w.Body.String() != `{"message":"Not Found"}` ||
		w.Header().Get("Content-Type") != "application/json;charset=utf-8" || w.Header().Get("Content-Length") != "23" {
		t.Errorf("%d %q %v", w.Code, w.Body.String(), w.Header())
	}
	w = httptest.NewRecorder()
	WriteJSON(w, http.StatusOK, "application/json", func() {})
	if w.Code != http.StatusInternalServerError {
		t.Errorf("a value that cannot encode answered %d", w.Code)
	}
}

func TestLinks(t *testing.T) {
	l := NewLinks()
	now := time.Now()
	exp, sig := l.Sign("/o/r/zip/main", now.Add(time.Minute))
	otherExp, otherSig := NewLinks().Sign("/o/r/zip/main", now.Add(time.Minute))
	for _, tc := range []struct {
		name, path, exp, sig string
		now                  time.Time
		ok                   bool
	}{
		{"valid", "/o/r/zip/main", exp, sig, now, true},
		{"expired", "/o/r/zip/main", exp, sig, now.Add(2 * time.Minute), false},
		{"other path", "/o/r/zip/dev", exp, sig, now, false},
		{"later expiry", "/o/r/zip/main", exp + "0", sig, now, false},
		{"bad expiry", "/o/r/zip/main", "soon", sig, now, false},
		{"tampered", "/o/r/zip/main", exp, strings.Repeat("0", len(sig)), now, false},
		{"other key", "/o/r/zip/main", otherExp, otherSig, now, false},
		{"empty", "/o/r/zip/main", "", "", now, false},
	} {
		if got := l.Check(tc.path, tc.exp, tc.sig, tc.now); got != tc.ok {
			t.Errorf("%s: Check = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestRandomIDs(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 50 {
		u := UUID()
		if !uuid.MatchString(u) || seen[u] {
			t.Fatalf("UUID() = %q (seen before: %v)", u, seen[u])
		}
		seen[u] = true
	}
	if h := RandomHex(16); len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" || h == RandomHex(16) {
		t.Errorf("RandomHex(16) = %q", h)
	}
}
