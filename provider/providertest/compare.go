package providertest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/provider"
)

// CompareAnswer is an answer of a provider's compare API, and what
// ChangedFiles must make of it: the files Want, or an error of kind Kind
// whose text holds Msg.
type CompareAnswer struct {
	Name string
	Code int // the status; 0 is 200
	Body string
	Want []string
	Kind error
	Msg  string
}

// CompareAnswers serves each answer from a test server and checks what the
// ChangedFiles of before...after in repo makes of it, with the lister that
// newLister builds for the server's URL. secret, when not empty, must
// appear in no error: a token a server echoes, say.
func CompareAnswers(t *testing.T, newLister func(t *testing.T, url string) provider.ChangeLister, repo provider.Repo, before, after, secret string, answers []CompareAnswer) {
	t.Helper()
	for _, a := range answers {
		t.Run(a.Name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if a.Code != 0 {
					w.WriteHeader(a.Code)
				}
				_, _ = w.Write([]byte(a.Body))
			}))
			defer srv.Close()
			files, err := newLister(t, srv.URL).ChangedFiles(context.Background(), repo, before, after)
			if a.Kind == nil && (err != nil || !slices.Equal(files, a.Want)) {
				t.Fatalf("ChangedFiles = %q, %v; want %q", files, err, a.Want)
			}
			if a.Kind != nil && (!errors.Is(err, a.Kind) || !strings.Contains(err.Error(), a.Msg)) {
				t.Fatalf("ChangedFiles = %v, want %v with %q", err, a.Kind, a.Msg)
			}
			if secret != "" && err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("the error holds the secret: %v", err)
			}
		})
	}
}
