// Package provider defines the contract between gitsource and a source code
// host: how a webhook delivery is recognised, verified and parsed into
// normalized push events, and how the archive of the pushed commit is
// requested.
//
// The packages github, gitlab, bitbucket and gitee implement it; a custom
// provider implements the same interface and proves itself with the
// conformance suite in provider/providertest.
//
// Every function here treats its input as hostile: names are validated
// before they reach a URL or an object key, and errors carry a Kind that maps
// to the HTTP answer a webhook sender gets (see StatusCode).
package provider
