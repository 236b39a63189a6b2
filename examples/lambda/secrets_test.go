package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// fakeStores speaks the JSON protocols of SSM GetParameter and Secrets
// Manager GetSecretValue, as the SDK sends them to its BaseEndpoint.
type fakeStores struct {
	*httptest.Server
	params  map[string]string // name → value
	secrets map[string]string // id → SecretString

	mu       sync.Mutex
	requests []storeRequest
}

type storeRequest struct {
	Target         string
	ID             string
	WithDecryption bool
	Signed         bool
}

func newFakeStores(t testing.TB, params, secrets map[string]string) *fakeStores {
	f := &fakeStores{params: params, secrets: secrets}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeStores) serve(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name           string
		WithDecryption bool
		SecretId       string
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, "bad JSON", http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	f.mu.Lock()
	f.requests = append(f.requests, storeRequest{
		Target: target, ID: in.Name + in.SecretId, WithDecryption: in.WithDecryption,
		Signed: strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "),
	})
	f.mu.Unlock()
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch target {
	case "AmazonSSM.GetParameter":
		v, ok := f.params[in.Name]
		if !ok {
			reply(http.StatusBadRequest, map[string]string{"__type": "ParameterNotFound", "message": ""})
			return
		}
		reply(http.StatusOK, map[string]any{"Parameter": map[string]any{
			"Name": in.Name, "Type": "SecureString", "Value": v, "Version": 3,
			"ARN": "arn:aws-cn:ssm:cn-north-1:123456789012:parameter" + in.Name,
		}})
	case "secretsmanager.GetSecretValue":
		v, ok := f.secrets[in.SecretId]
		if !ok {
			reply(http.StatusBadRequest, map[string]string{"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."})
			return
		}
		reply(http.StatusOK, map[string]any{"ARN": in.SecretId, "Name": "gitsource", "SecretString": v, "VersionId": "v1"})
	default:
		reply(http.StatusBadRequest, map[string]string{"__type": "UnknownOperationException"})
	}
}

func (f *fakeStores) Requests() []storeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]storeRequest(nil), f.requests...)
}

func (f *fakeStores) stores() stores {
	creds := credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key-for-signing", "")
	return stores{
		SSM: func() paramGetter {
			return ssm.New(ssm.Options{Region: "cn-north-1", BaseEndpoint: aws.String(f.URL), Credentials: creds})
		},
		Secrets: func() secretGetter {
			return secretsmanager.New(secretsmanager.Options{Region: "cn-north-1", BaseEndpoint: aws.String(f.URL), Credentials: creds})
		},
	}
}

func TestFindSecretRefs(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    []secretRef
		wantErr string
	}{
		{"none", []string{"PATH=/bin", "GITHUB_WEBHOOK_SECRET=x"}, []secretRef{}, ""},
		{"SSM and Secrets Manager", []string{
			"GITHUB_WEBHOOK_SECRET_PARAM=/gitsource/github",
			"GITLAB_TOKEN_SECRET_ARN=arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:gitsource-AbCdEf#gitlab",
			"GITEE_TOKEN_SECRET_ARN= gitsource/gitee ",
			"EMPTY_PARAM=",
		}, []secretRef{
			{Var: "GITEE_TOKEN", From: "GITEE_TOKEN_SECRET_ARN", Store: "secretsmanager", ID: "gitsource/gitee"},
			{Var: "GITHUB_WEBHOOK_SECRET", From: "GITHUB_WEBHOOK_SECRET_PARAM", Store: "ssm", ID: "/gitsource/github"},
			{Var: "GITLAB_TOKEN", From: "GITLAB_TOKEN_SECRET_ARN", Store: "secretsmanager", ID: "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:gitsource-AbCdEf", Field: "gitlab"},
		}, ""},
		{"a bare suffix is no reference", []string{"_PARAM=x", "_SECRET_ARN=y"}, []secretRef{}, ""},
		{"value and reference", []string{"GITHUB_TOKEN=ghp_x", "GITHUB_TOKEN_PARAM=/p"}, nil, "GITHUB_TOKEN is set and so is GITHUB_TOKEN_PARAM"},
		{"two references", []string{"GITHUB_TOKEN_SECRET_ARN=arn", "GITHUB_TOKEN_PARAM=/p"}, nil, "GITHUB_TOKEN_PARAM and GITHUB_TOKEN_SECRET_ARN both set GITHUB_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findSecretRefs(tt.environ)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "ghp_x") {
					t.Errorf("error holds the value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("refs = %+v\nwant   %+v", got, tt.want)
			}
		})
	}
}

func TestLoadSecrets(t *testing.T) {
	const (
		hookSecret = "s3cr3t-from-ssm"
		token      = "glpat-from-secrets-manager"
		arn        = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:gitsource-AbCdEf"
	)
	f := newFakeStores(t,
		map[string]string{"/gitsource/github": hookSecret + "\n", "/gitsource/blank": "  "},
		map[string]string{arn: `{"gitlab":"` + token + `","n":1}`, "plain": " gitee-token ", "notjson": "x"})
	tests := []struct {
		name    string
		environ []string
		want    map[string]string
		wantErr string
	}{
		{"both stores", []string{
			"GITHUB_WEBHOOK_SECRET_PARAM=/gitsource/github",
			"GITLAB_TOKEN_SECRET_ARN=" + arn + "#gitlab",
			"GITEE_TOKEN_SECRET_ARN=plain",
		}, map[string]string{"GITHUB_WEBHOOK_SECRET": hookSecret, "GITLAB_TOKEN": token, "GITEE_TOKEN": "gitee-token"}, ""},
		{"missing parameter", []string{"GITHUB_WEBHOOK_SECRET_PARAM=/gitsource/missing"}, nil, "GITHUB_WEBHOOK_SECRET_PARAM: reading SSM parameter /gitsource/missing"},
		{"blank parameter", []string{"GITHUB_WEBHOOK_SECRET_PARAM=/gitsource/blank"}, nil, "is empty"},
		{"missing secret", []string{"GITLAB_TOKEN_SECRET_ARN=nope"}, nil, "reading secret nope"},
		{"missing field", []string{"GITLAB_TOKEN_SECRET_ARN=" + arn + "#github"}, nil, `no string field "github"`},
		{"field of a number", []string{"GITLAB_TOKEN_SECRET_ARN=" + arn + "#n"}, nil, `no string field "n"`},
		{"field of a plain secret", []string{"GITLAB_TOKEN_SECRET_ARN=notjson#k"}, nil, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, err := findSecretRefs(tt.environ)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			got := map[string]string{}
			err = loadSecrets(context.Background(), refs, f.stores(), func(k, v string) error { got[k] = v; return nil }, logger)
			for _, secret := range []string{hookSecret, token, "gitee-token"} {
				if strings.Contains(logs.String(), secret) || (err != nil && strings.Contains(err.Error(), secret)) {
					t.Errorf("a secret value reached the logs or the error:\n%s\n%v", logs.String(), err)
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("set %v, want %v", got, tt.want)
			}
			for v := range tt.want {
				if !strings.Contains(logs.String(), `"variable":"`+v+`"`) {
					t.Errorf("no log line names %s:\n%s", v, logs.String())
				}
			}
		})
	}
	for _, r := range f.Requests() {
		if !r.Signed {
			t.Errorf("request %+v was not signed", r)
		}
		if r.Target == "AmazonSSM.GetParameter" && !r.WithDecryption {
			t.Errorf("GetParameter %s without decryption", r.ID)
		}
	}
}
