// Package gitsource turns webhook pushes on GitHub, GitLab, Bitbucket and
// Gitee into CodeBuild-ready zip archives in S3 or a local directory, so
// that AWS CodePipeline can build from hosts it has no connection to (the
// AWS China regions first of all).
//
// A Handler receives deliveries over HTTP: it bounds the body, picks the
// provider, verifies the delivery before parsing it, and hands the events to
// a Dispatcher. The Relay is the Dispatcher that does the work: it downloads
// the archive of the exact pushed commit, strips the host's top-level folder
// so that buildspec.yml sits at the root, and streams the result to a Sink
// under a key made by a KeyTemplate, with metadata CodePipeline shows. A Pool
// runs the Relay in the background so that a webhook is answered within the
// host's time limit whatever the archive's size.
//
// Load reads the whole configuration from the environment, as the
// gitsource command and the Lambda examples do.
package gitsource
