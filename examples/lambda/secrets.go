package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// The suffixes of the variables that name a secret in a store rather than
// hold it: GITHUB_WEBHOOK_SECRET_PARAM=/gitsource/github-webhook-secret
// sets GITHUB_WEBHOOK_SECRET from that SSM parameter at cold start, and
// GITHUB_TOKEN_SECRET_ARN=arn:...:secret:gitsource-AbCdEf (optionally
// followed by #field for a JSON secret) from Secrets Manager.
const (
	suffixParam  = "_PARAM"
	suffixSecret = "_SECRET_ARN"
)

// secretRef is a variable to be set from a store.
type secretRef struct {
	Var   string // the variable to set, e.g. GITHUB_WEBHOOK_SECRET
	From  string // the variable that named the store entry
	Store string // "ssm" or "secretsmanager"
	ID    string // parameter name or ARN; secret ARN or name
	Field string // for Secrets Manager: the JSON field, or "" for the whole secret
}

// findSecretRefs returns the variables of environ (as os.Environ gives
// it) that name a store entry, sorted by the variable they set. A variable
// set both directly and from a store, or from two stores, is an error:
// which should win is not for the function to guess.
func findSecretRefs(environ []string) ([]secretRef, error) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	byVar := map[string]secretRef{}
	for k, v := range env {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		var ref secretRef
		switch {
		case strings.HasSuffix(k, suffixSecret) && len(k) > len(suffixSecret):
			id, field, _ := strings.Cut(v, "#")
			ref = secretRef{Var: strings.TrimSuffix(k, suffixSecret), From: k, Store: "secretsmanager", ID: id, Field: field}
		case strings.HasSuffix(k, suffixParam) && len(k) > len(suffixParam):
			ref = secretRef{Var: strings.TrimSuffix(k, suffixParam), From: k, Store: "ssm", ID: v}
		default:
			continue
		}
		if other, dup := byVar[ref.Var]; dup {
			a, b := sortPair(other.From, ref.From)
			return nil, fmt.Errorf("%s and %s both set %s: keep one", a, b, ref.Var)
		}
		if strings.TrimSpace(env[ref.Var]) != "" {
			return nil, fmt.Errorf("%s is set and so is %s: set the value or where to read it, not both", ref.Var, ref.From)
		}
		byVar[ref.Var] = ref
	}
	refs := make([]secretRef, 0, len(byVar))
	for _, r := range byVar {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Var < refs[j].Var })
	return refs, nil
}

func sortPair(a, b string) (string, string) {
	if a > b {
		return b, a
	}
	return a, b
}

// paramGetter reads an SSM parameter; *ssm.Client implements it.
type paramGetter interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// secretGetter reads a Secrets Manager secret; *secretsmanager.Client
// implements it.
type secretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// stores gives the clients of the secret stores, made only when a
// variable needs them.
type stores struct {
	SSM     func() paramGetter
	Secrets func() secretGetter
}

// loadSecrets reads every ref from its store and sets its variable with
// setenv. Values are trimmed of surrounding white space (a trailing
// newline from `aws ssm put-parameter --value file://...` would fail every
// signature). The log names the variables and the store entries, never a
// value; so do the errors.
func loadSecrets(ctx context.Context, refs []secretRef, st stores, setenv func(k, v string) error, logger *slog.Logger) error {
	for _, ref := range refs {
		v, err := fetchSecret(ctx, ref, st)
		if err != nil {
			return err
		}
		if err := setenv(ref.Var, v); err != nil {
			return fmt.Errorf("setting %s: %w", ref.Var, err)
		}
		logger.InfoContext(ctx, "configuration read from a secret store", "variable", ref.Var, "from", ref.From, "store", ref.Store, "id", ref.ID)
	}
	return nil
}

func fetchSecret(ctx context.Context, ref secretRef, st stores) (string, error) {
	switch ref.Store {
	case "ssm":
		out, err := st.SSM().GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(ref.ID), WithDecryption: aws.Bool(true)})
		if err != nil {
			return "", fmt.Errorf("%s: reading SSM parameter %s: %w", ref.From, ref.ID, err)
		}
		if out.Parameter == nil || out.Parameter.Value == nil || strings.TrimSpace(*out.Parameter.Value) == "" {
			return "", fmt.Errorf("%s: SSM parameter %s is empty", ref.From, ref.ID)
		}
		return strings.TrimSpace(*out.Parameter.Value), nil
	case "secretsmanager":
		out, err := st.Secrets().GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.ID)})
		if err != nil {
			return "", fmt.Errorf("%s: reading secret %s: %w", ref.From, ref.ID, err)
		}
		var v string
		switch {
		case out.SecretString != nil:
			v = *out.SecretString
		default:
			v = string(out.SecretBinary)
		}
		if ref.Field != "" {
			var fields map[string]any
			if err := json.Unmarshal([]byte(v), &fields); err != nil {
				return "", fmt.Errorf("%s: secret %s is not a JSON object, so it has no field %q", ref.From, ref.ID, ref.Field)
			}
			s, ok := fields[ref.Field].(string)
			if !ok {
				return "", fmt.Errorf("%s: secret %s has no string field %q", ref.From, ref.ID, ref.Field)
			}
			v = s
		}
		if strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("%s: secret %s is empty", ref.From, ref.ID)
		}
		return strings.TrimSpace(v), nil
	}
	return "", fmt.Errorf("%s: unknown store %q", ref.From, ref.Store)
}
