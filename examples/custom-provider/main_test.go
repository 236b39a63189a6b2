package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

const (
	sha    = "89abcdef0123456789abcdef0123456789abcdef"
	secret = "gitea-secret"
	token  = "gitea-token-1234"
)

// fakeGitea serves one archive, laid out as Gitea lays it out, to the
// token only.
func fakeGitea(t *testing.T) *httptest.Server {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{"hello/buildspec.yml": "version: 0.2\n", "hello/main.go": "package main\n"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token "+token {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if r.URL.Path != "/api/v1/repos/octo/hello/archive/"+sha+".zip" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Write(buf.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCustomProviderEndToEnd(t *testing.T) {
	gitea := fakeGitea(t)
	dir := t.TempDir()
	env := map[string]string{
		"GITSOURCE_SINK":       "file://" + dir,
		"GITEA_URL":            gitea.URL,
		"GITEA_WEBHOOK_SECRET": secret,
		"GITEA_TOKEN":          token,
	}
	h, err := newHandler(context.Background(), func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	body, _ := json.Marshal(map[string]any{
		"ref": "refs/heads/main", "before": "0000000000000000000000000000000000000000", "after": sha,
		"head_commit": map[string]any{"id": sha, "message": "Add buildspec\n", "timestamp": "2024-05-01T12:00:00Z"},
		"repository":  map[string]any{"name": "hello", "owner": map[string]any{"login": "octo"}},
	})
	tests := []struct {
		name, path, secret string
		want               int
	}{
		{"by path", "/gitea", secret, http.StatusOK},
		{"detected from the headers", "/", secret, http.StatusOK},
		{"wrong secret", "/gitea", "nope", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := hmac.New(sha256.New, []byte(tt.secret))
			m.Write(body)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tt.path, bytes.NewReader(body))
			req.Header.Set("X-Gitea-Event", "push")
			req.Header.Set("X-Gitea-Delivery", "d-1")
			req.Header.Set("X-Gitea-Signature", hex.EncodeToString(m.Sum(nil)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}

	zr, err := zip.OpenReader(filepath.Join(dir, "octo", "hello", "main.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	if !names["buildspec.yml"] || !names["main.go"] || len(names) != 2 {
		t.Errorf("entries %v, want buildspec.yml and main.go at the root", names)
	}
	meta, err := os.ReadFile(filepath.Join(dir, "octo", "hello", "main.zip.json"))
	if err != nil || !bytes.Contains(meta, []byte(`"gitsource-provider": "gitea"`)) && !bytes.Contains(meta, []byte(`"gitsource-provider":"gitea"`)) {
		t.Errorf("metadata %s (%v), want provider gitea", meta, err)
	}
}
