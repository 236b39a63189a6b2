package payload

import "github.com/gitsource/gitsource/provider"

// NotPush returns the error for a delivery that carries no push: of kind
// provider.ErrIgnored, so the sender is answered with success, and naming
// the sender's event, tamed by Short. what says what name is: "event",
// "hook", "object kind".
func NotPush(what, name string) error {
	return provider.Ignoredf("%s %q is not a push", what, Short(name))
}

// Deleted returns the error for the push of a ref's deletion, which has
// no commit to build: of kind provider.ErrIgnored.
func Deleted(ref provider.Ref) error {
	return provider.Ignoredf("%s %s deleted", ref.Type, ref.Name)
}
