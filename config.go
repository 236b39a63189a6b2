package gitsource

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gitsource/gitsource/internal/fetch"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/route"
	"github.com/gitsource/gitsource/sink"
)

// Environment variables read by Load besides the providers' own.
const (
	EnvSink     = "GITSOURCE_SINK"
	EnvKey      = "GITSOURCE_KEY"
	EnvAddr     = "GITSOURCE_ADDR"
	EnvQueueURL = "GITSOURCE_QUEUE_URL"
	// EnvMaxArchiveSize bounds the bytes downloaded for one archive: a
	// number of bytes, or of KiB, MiB or GiB ("512MiB").
	EnvMaxArchiveSize = "GITSOURCE_MAX_ARCHIVE_SIZE"
	// EnvFetchTimeout bounds the whole relay of one event, downloads and
	// upload: a Go duration ("30m").
	EnvFetchTimeout = "GITSOURCE_FETCH_TIMEOUT"
)

// DefaultSink is where `gitsource serve` and `gitsource sync` write when
// GITSOURCE_SINK is unset.
const DefaultSink = "file://./artifacts"

// Config is gitsource's configuration, read from the environment.
type Config struct {
	// SinkURL is where archives go (GITSOURCE_SINK).
	SinkURL string
	// Key is the object key template (GITSOURCE_KEY).
	Key *KeyTemplate
	// Providers holds the enabled providers.
	Providers *provider.Registry
	// HTTPClients holds each provider's HTTP client, with its own proxy.
	HTTPClients map[string]*http.Client
	// QueueURL is the SQS queue of the queued mode (GITSOURCE_QUEUE_URL).
	QueueURL string
	// Routes holds the routes of the file GITSOURCE_CONFIG names, checked;
	// nil without one, when every push goes to SinkURL under Key.
	Routes *route.Config
	// MaxArchiveSize bounds the bytes downloaded for one archive
	// (GITSOURCE_MAX_ARCHIVE_SIZE); zero means DefaultMaxArchiveSize.
	MaxArchiveSize int64
	// FetchTimeout bounds the whole relay of one event
	// (GITSOURCE_FETCH_TIMEOUT); zero means 15 minutes.
	FetchTimeout time.Duration
	// Unavailable holds, with LoadOptions.WithoutWebhooks, why a provider
	// that no webhook secret enables could not be built (a Bitbucket Data
	// Center without its URL, say).
	Unavailable map[string]error
}

// LoadOptions changes how Load reads the environment.
type LoadOptions struct {
	// DefaultSink is used when GITSOURCE_SINK is unset; empty makes
	// GITSOURCE_SINK required.
	DefaultSink string
	// WithoutWebhooks builds every provider, with or without its webhook
	// secret: `gitsource sync` fetches with tokens alone. Deliveries to a
	// provider without a secret always fail verification.
	WithoutWebhooks bool
	// Providers are the caller's own providers (see provider.Provider),
	// enabled beside the built-in ones: they count as enabled, routes may
	// name them, and one that takes a built-in provider's name is an
	// error. Their archives are downloaded through HTTPS_PROXY and
	// NO_PROXY, as a built-in provider's without a proxy of its own.
	Providers []provider.Provider
}

// Load reads the configuration from getenv (os.Getenv in the command). A
// provider whose webhook secret is unset is disabled; with no provider
// enabled, built in or in opts.Providers, Load fails, naming the variables
// that enable one. The routes file
// GITSOURCE_CONFIG names, when set, is read and checked here: a bad file
// fails Load with its line and the reason.
func Load(getenv func(string) string, opts LoadOptions) (*Config, error) {
	c := &Config{
		SinkURL:     strings.TrimSpace(getenv(EnvSink)),
		QueueURL:    strings.TrimSpace(getenv(EnvQueueURL)),
		HTTPClients: map[string]*http.Client{},
		Unavailable: map[string]error{},
	}
	custom, err := customProviders(opts.Providers)
	if err != nil {
		return nil, err
	}
	if err := c.loadLimits(getenv); err != nil {
		return nil, err
	}
	if path := strings.TrimSpace(getenv(EnvConfig)); path != "" {
		ropts := routeOptions
		if len(custom) > 0 {
			ropts.Providers = append(slices.Clone(route.Providers), custom...)
		}
		routes, err := route.Load(path, ropts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvConfig, err)
		}
		c.Routes = routes
	}
	if c.SinkURL == "" {
		switch {
		case opts.DefaultSink != "":
			c.SinkURL = opts.DefaultSink
		case c.Routes == nil:
			return nil, fmt.Errorf("%s is required (file:///abs/dir or s3://bucket[/prefix])", EnvSink)
		case c.Routes.NeedsDefaultSink():
			return nil, fmt.Errorf("%s is required: a route of %s names no sink (file:///abs/dir or s3://bucket[/prefix])", EnvSink, EnvConfig)
		}
	}
	keyText := getenv(EnvKey)
	if keyText == "" {
		keyText = DefaultKey
	}
	key, err := ParseKeyTemplate(keyText)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvKey, err)
	}
	c.Key = key

	var enabled []provider.Provider
	var hints []string
	for _, pc := range providerConfigs {
		hints = append(hints, strings.Join(pc.enabledBy, " or "))
		explicit := pc.enabled(getenv)
		if !explicit && !opts.WithoutWebhooks {
			continue
		}
		p, client, err := pc.open(getenv)
		switch {
		case err == nil:
			enabled = append(enabled, p)
			c.HTTPClients[p.Name()] = client
		case explicit:
			return nil, err
		default:
			// Built only because `gitsource sync` builds every provider:
			// keep the reason for when that provider is asked for.
			c.Unavailable[pc.name] = err
		}
	}
	for _, p := range opts.Providers {
		client, err := providerClient("")
		if err != nil {
			return nil, err
		}
		enabled = append(enabled, p)
		c.HTTPClients[p.Name()] = client
	}
	if len(enabled) == 0 {
		return nil, fmt.Errorf("no provider is enabled: set %s", strings.Join(hints, ", or "))
	}
	reg, err := provider.NewRegistry(enabled...)
	if err != nil {
		return nil, err
	}
	c.Providers = reg
	return c, nil
}

// customProviders checks the caller's providers and returns their names.
func customProviders(ps []provider.Provider) ([]string, error) {
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		if p == nil {
			return nil, errors.New("LoadOptions.Providers holds a nil provider")
		}
		name := p.Name()
		if slices.ContainsFunc(providerConfigs, func(pc providerConfig) bool { return pc.name == name }) {
			return nil, fmt.Errorf("provider %q of LoadOptions.Providers has the name of a built-in provider", name)
		}
		if slices.Contains(names, name) {
			return nil, fmt.Errorf("provider %q is given twice in LoadOptions.Providers", name)
		}
		names = append(names, name)
	}
	return names, nil
}

// loadLimits reads the relay's limits.
func (c *Config) loadLimits(getenv func(string) string) error {
	if v := strings.TrimSpace(getenv(EnvMaxArchiveSize)); v != "" {
		n, err := parseSize(v)
		if err != nil {
			return fmt.Errorf("%s: %w", EnvMaxArchiveSize, err)
		}
		c.MaxArchiveSize = n
	}
	if v := strings.TrimSpace(getenv(EnvFetchTimeout)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%s: %q is not a positive duration (use 30m, 1h, 90s)", EnvFetchTimeout, v)
		}
		c.FetchTimeout = d
	}
	return nil
}

// sizeUnits are the suffixes parseSize takes, binary multiples only: a
// "MB" that may mean 10^6 or 2^20 is refused rather than guessed.
var sizeUnits = []struct {
	suffix string
	shift  uint
}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"B", 0}}

// parseSize reads a positive number of bytes, with an optional KiB, MiB or
// GiB suffix ("512MiB", "2 GiB", "1048576").
func parseSize(v string) (int64, error) {
	num, shift := v, uint(0)
	for _, u := range sizeUnits {
		if len(v) > len(u.suffix) && strings.EqualFold(v[len(v)-len(u.suffix):], u.suffix) {
			num, shift = strings.TrimSpace(v[:len(v)-len(u.suffix)]), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size: want a positive number of bytes, KiB, MiB or GiB (512MiB)", v)
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q is too large", v)
	}
	return n << shift, nil
}

// OpenSink opens the configured sink.
func (c *Config) OpenSink(ctx context.Context) (sink.Sink, error) {
	s, err := sink.Open(ctx, c.SinkURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvSink, err)
	}
	return s, nil
}

// NewRelay opens the configured sink and returns a Relay writing to it.
func (c *Config) NewRelay(ctx context.Context) (*Relay, error) {
	s, err := c.OpenSink(ctx)
	if err != nil {
		return nil, err
	}
	return c.relay(s), nil
}

// relay returns a Relay of the configured providers and limits, writing to
// s under Key.
func (c *Config) relay(s sink.Sink) *Relay {
	r := &Relay{Providers: c.Providers, Sink: s, Key: c.Key, HTTPClients: c.HTTPClients, MaxArchiveSize: c.MaxArchiveSize}
	r.Fetch.Deadline = c.FetchTimeout
	return r
}

// providerConfig reads one provider's settings from the environment.
type providerConfig struct {
	name      string
	enabledBy []string // any of these set enables the provider
	proxyVar  string   // proxy for this provider's traffic only
	build     func(getenv func(string) string, client *http.Client) (provider.Provider, error)
}

// enabled reports whether one of the provider's webhook secrets is set.
func (pc providerConfig) enabled(getenv func(string) string) bool {
	for _, v := range pc.enabledBy {
		if strings.TrimSpace(getenv(v)) != "" {
			return true
		}
	}
	return false
}

// open builds the provider and its HTTP client.
func (pc providerConfig) open(getenv func(string) string) (provider.Provider, *http.Client, error) {
	client, err := providerClient(getenv(pc.proxyVar))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", pc.proxyVar, err)
	}
	p, err := pc.build(getenv, client)
	if err != nil {
		return nil, nil, err // the provider's own errors name it
	}
	return p, client, nil
}

// providerConfigs lists the built-in providers, in detection order.
var providerConfigs []providerConfig

func registerProviderConfig(pc providerConfig) {
	providerConfigs = append(providerConfigs, pc)
	sort.SliceStable(providerConfigs, func(i, j int) bool { return providerConfigs[i].name < providerConfigs[j].name })
}

// providerClient returns the HTTP client for one provider's traffic: its
// own proxy when proxy is set, HTTPS_PROXY and NO_PROXY otherwise.
func providerClient(proxy string) (*http.Client, error) {
	tr, err := fetch.NewTransport(strings.TrimSpace(proxy))
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: tr, Timeout: 0}, nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// parseBool reads a boolean variable; empty is false.
func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("%s: %q is not a boolean (use true or false)", name, v)
}

// apiTimeout bounds a provider's API calls (not archive downloads).
const apiTimeout = 30 * time.Second

// apiClient is the provider's client with a deadline for API calls.
func apiClient(c *http.Client) *http.Client {
	cc := *c
	cc.Timeout = apiTimeout
	return &cc
}
