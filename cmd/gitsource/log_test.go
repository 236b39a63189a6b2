package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/internal/fakegithub"
)

// TestDeliveryLog: serve writes one JSON line per delivery, with the
// delivery id, provider, repository, ref, commit, bytes, duration in
// milliseconds (a number) and outcome, and never a secret.
func TestDeliveryLog(t *testing.T) {
	gh, sha := newGitHub(t)
	base, stop, logs := startServe(t, baseEnv(gh, "file://"+t.TempDir()))

	push := fakegithub.PushPayload(fakegithub.PushSpec{Owner: "octo", Name: "hello", Ref: "refs/heads/feature/login", After: sha})
	pushHeader := fakegithub.Sign(secret, push)
	post(t, base+"/github", pushHeader, push)
	post(t, base+"/", fakegithub.Sign(secret, fakegithub.Ping()), fakegithub.Ping())
	post(t, base+"/github", fakegithub.Sign("not the secret", push), push)
	if c := stop(); c != exitOK {
		t.Fatalf("serve exited with %d", c)
	}

	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a log line is not JSON: %s", sc.Text())
		}
		if m["msg"] == "delivery" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d delivery lines, want 3:\n%s", len(lines), logs)
	}
	ok, ping, refused := lines[0], lines[1], lines[2]
	want := map[string]any{
		"delivery": pushHeader.Get("X-GitHub-Delivery"), "provider": "github", "repo": "octo/hello",
		"ref": "refs/heads/feature/login", "commit": sha, "outcome": "ok", "key": "octo/hello/feature/login.zip",
	}
	for k, v := range want {
		if ok[k] != v {
			t.Errorf("%s = %v, want %v", k, ok[k], v)
		}
	}
	for _, k := range []string{"bytes", "duration_ms"} {
		if n, isNumber := ok[k].(float64); !isNumber || (k == "bytes" && n <= 0) {
			t.Errorf("%s = %#v, want a number", k, ok[k])
		}
	}
	if ping["provider"] != "github" || ping["outcome"] != "ignored" || ping["reason"] == nil {
		t.Errorf("ping line: %v", ping)
	}
	if refused["outcome"] != "error" || refused["status"] != float64(401) || refused["level"] != "WARN" {
		t.Errorf("refused line: %v", refused)
	}
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), "not the secret") ||
		strings.Contains(logs.String(), pushHeader.Get("X-Hub-Signature-256")) {
		t.Errorf("the log holds a secret or a signature")
	}
}
