package notify

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/store"
)

// DefaultScanLimit is how many outbox items one dispatch reads.
const DefaultScanLimit = 1000

// claimMargin is added to an endpoint's timeout when an item is claimed,
// so the claim outlasts the attempt and the write of its result.
const claimMargin = 30 * time.Second

// Options configures a Notifier. Config and Store are required.
type Options struct {
	// Config supplies Webhooks and, unless PublicURL is set, PublicURL.
	Config *configs.Config
	Store  store.Store
	Clock  clock.Clock  // default: the wall clock
	Logger *slog.Logger // default: slog.Default()
	// HTTPClient sends deliveries. Default: a client that does not follow
	// redirects. Per-attempt timeouts come from each webhook's Timeout, so
	// the client needs none of its own.
	HTTPClient *http.Client
	// PublicURL is the base of the request page links. Default:
	// Config.PublicURL. When both are empty, payloads carry no link and
	// Slack messages no button.
	PublicURL string
	// Backoff spaces retries. nil means DefaultBackoff; a given Backoff is
	// used as it is, so Jitter 0 turns jitter off.
	Backoff *Backoff
	// ScanLimit caps the outbox items one dispatch reads. Default
	// DefaultScanLimit.
	ScanLimit int
}

// Notifier queues webhook deliveries inside store transactions and
// delivers them from Run. It is safe for concurrent use.
type Notifier struct {
	store     store.Store
	clock     clock.Clock
	log       *slog.Logger
	client    *http.Client
	publicURL string
	backoff   Backoff
	scanLimit int

	// endpoints keeps the config order; byName indexes it.
	endpoints []*endpoint
	byName    map[string]*endpoint

	stats   counters
	running atomic.Bool
}

var _ approval.Notifier = (*Notifier)(nil)

// New checks the webhooks of opts.Config and reads their secret files.
func New(opts Options) (*Notifier, error) {
	if opts.Config == nil || opts.Store == nil {
		return nil, errors.New("notify: Options.Config and Options.Store are required")
	}
	n := &Notifier{
		store:     opts.Store,
		clock:     opts.Clock,
		log:       opts.Logger,
		client:    opts.HTTPClient,
		publicURL: opts.PublicURL,
		backoff:   DefaultBackoff,
		scanLimit: opts.ScanLimit,
		byName:    map[string]*endpoint{},
	}
	if n.clock == nil {
		n.clock = clock.Real{}
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	if n.client == nil {
		n.client = &http.Client{CheckRedirect: doNotFollow}
	}
	if n.publicURL == "" {
		n.publicURL = opts.Config.PublicURL
	}
	n.publicURL = strings.TrimRight(n.publicURL, "/")
	if opts.Backoff != nil {
		if err := opts.Backoff.check(); err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		n.backoff = *opts.Backoff
	}
	if n.scanLimit <= 0 {
		n.scanLimit = DefaultScanLimit
	}

	var err error
	if n.endpoints, err = loadEndpoints(opts.Config.Webhooks); err != nil {
		return nil, err
	}
	for _, ep := range n.endpoints {
		n.byName[ep.name] = ep
	}
	return n, nil
}

// doNotFollow makes the client return a 3xx response as it is, which then
// counts as a failed attempt.
func doNotFollow(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}

// Stats returns the delivery counters since New.
func (n *Notifier) Stats() Stats {
	return n.stats.snapshot()
}
