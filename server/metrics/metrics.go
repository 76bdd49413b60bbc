// Package metrics is a small Prometheus registry: counters (optionally
// labelled), gauges, gauges computed at scrape time, and histograms,
// served in the Prometheus text exposition format 0.0.4.
//
// It exists so that the server needs no metrics dependency for the handful
// of metrics it has. It is not a general Prometheus client: no summaries,
// no labelled gauges or histograms, no exemplars, no protobuf format.
//
// Constructors panic on invalid names, label names and buckets, because
// those are programming errors found the first time the program runs;
// Register returns an error, because which metrics meet in a registry can
// depend on configuration.
package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ContentType is the media type of the text exposition format 0.0.4.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Collector is a metric family that a Registry exposes. Only this
// package's types implement it.
type Collector interface {
	describe() *family
	// writeSamples appends the family's sample lines to b. An error means
	// the family cannot be exposed in this scrape.
	writeSamples(ctx context.Context, b *bytes.Buffer) error
}

// family is what every metric type shares: name, help and type.
type family struct {
	name, help, typ string
}

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

func newFamily(name, help, typ string) family {
	if !metricNameRE.MatchString(name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	return family{name: name, help: help, typ: typ}
}

// sampleNames are the sample names the family writes; two families in a
// registry must not share any, or a scraper could not tell them apart.
func (f *family) sampleNames() []string {
	if f.typ == "histogram" {
		return []string{f.name + "_bucket", f.name + "_sum", f.name + "_count"}
	}
	return []string{f.name}
}

// Counter is a value that only goes up (requests served, reports stored).
// The zero value is not usable; use NewCounter or CounterVec.
type Counter struct {
	fam    family
	labels string // rendered {k="v",...}, empty for an unlabelled counter
	bits   atomic.Uint64
}

// NewCounter returns a counter without labels. By convention its name ends
// in "_total".
func NewCounter(name, help string) *Counter {
	return &Counter{fam: newFamily(name, help, "counter")}
}

// Inc adds 1.
func (c *Counter) Inc() { c.Add(1) }

// Add adds v. It panics if v is negative: a counter that decreases makes
// rate() report a reset.
func (c *Counter) Add(v float64) {
	if v < 0 {
		panic(fmt.Sprintf("metrics: counter %s: negative increment %g", c.fam.name, v))
	}
	addFloat(&c.bits, v)
}

// Value returns the current value.
func (c *Counter) Value() float64 { return math.Float64frombits(c.bits.Load()) }

func (c *Counter) describe() *family { return &c.fam }

func (c *Counter) writeSamples(_ context.Context, b *bytes.Buffer) error {
	writeSample(b, c.fam.name, c.labels, c.Value())
	return nil
}

// addFloat adds v to the float64 stored as bits, without a lock.
func addFloat(bits *atomic.Uint64, v float64) {
	for {
		old := bits.Load()
		if bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// CounterVec is a family of counters that differ by label values, e.g.
// reports by outcome. Its label names are fixed at construction.
type CounterVec struct {
	fam        family
	labelNames []string

	mu       sync.Mutex
	children map[string]*counterChild
}

type counterChild struct {
	values []string
	*Counter
}

// NewCounterVec returns a counter family with the given label names.
func NewCounterVec(name, help string, labelNames ...string) *CounterVec {
	if len(labelNames) == 0 {
		panic(fmt.Sprintf("metrics: counter vec %s: no label names (use NewCounter)", name))
	}
	for i, l := range labelNames {
		if !labelNameRE.MatchString(l) || strings.HasPrefix(l, "__") {
			panic(fmt.Sprintf("metrics: counter vec %s: invalid label name %q", name, l))
		}
		if slices.Contains(labelNames[:i], l) {
			panic(fmt.Sprintf("metrics: counter vec %s: duplicate label name %q", name, l))
		}
	}
	return &CounterVec{
		fam:        newFamily(name, help, "counter"),
		labelNames: slices.Clone(labelNames),
		children:   make(map[string]*counterChild),
	}
}

// WithLabelValues returns the counter for the given label values, one per
// label name in order, creating it at zero on first use. It panics on a
// wrong number of values. Keep values few and bounded (an outcome, not a
// host id): every distinct combination is a time series.
func (v *CounterVec) WithLabelValues(values ...string) *Counter {
	if len(values) != len(v.labelNames) {
		panic(fmt.Sprintf("metrics: counter vec %s: got %d label values for %d label names", v.fam.name, len(values), len(v.labelNames)))
	}
	// \xff never occurs in UTF-8, so distinct value lists get distinct keys.
	key := strings.Join(values, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	if ch, ok := v.children[key]; ok {
		return ch.Counter
	}
	ch := &counterChild{
		values:  slices.Clone(values),
		Counter: &Counter{fam: v.fam, labels: renderLabels(v.labelNames, values)},
	}
	v.children[key] = ch
	return ch.Counter
}

func (v *CounterVec) describe() *family { return &v.fam }

func (v *CounterVec) writeSamples(_ context.Context, b *bytes.Buffer) error {
	v.mu.Lock()
	children := make([]*counterChild, 0, len(v.children))
	for _, ch := range v.children {
		children = append(children, ch)
	}
	v.mu.Unlock()
	slices.SortFunc(children, func(a, b *counterChild) int { return slices.Compare(a.values, b.values) })
	for _, ch := range children {
		writeSample(b, v.fam.name, ch.labels, ch.Value())
	}
	return nil
}

// Gauge is a value that goes up and down (connected agents, spool size).
type Gauge struct {
	fam  family
	bits atomic.Uint64
}

// NewGauge returns a gauge at zero.
func NewGauge(name, help string) *Gauge {
	return &Gauge{fam: newFamily(name, help, "gauge")}
}

// Set sets the gauge to v.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Value returns the current value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

func (g *Gauge) describe() *family { return &g.fam }

func (g *Gauge) writeSamples(_ context.Context, b *bytes.Buffer) error {
	writeSample(b, g.fam.name, "", g.Value())
	return nil
}

// GaugeFunc is a gauge computed at scrape time, for values that live
// elsewhere (open deviations counted by a database query).
type GaugeFunc struct {
	fam family
	f   func(context.Context) (float64, error)
}

// NewGaugeFunc returns a gauge whose value f computes at every scrape. f
// gets the scrape request's context. When f fails, the scrape still
// succeeds: the gauge is left out and the error is written as a comment,
// so that one failing query does not hide every other metric.
func NewGaugeFunc(name, help string, f func(ctx context.Context) (float64, error)) *GaugeFunc {
	return &GaugeFunc{fam: newFamily(name, help, "gauge"), f: f}
}

func (g *GaugeFunc) describe() *family { return &g.fam }

func (g *GaugeFunc) writeSamples(ctx context.Context, b *bytes.Buffer) error {
	v, err := g.f(ctx)
	if err != nil {
		return err
	}
	writeSample(b, g.fam.name, "", v)
	return nil
}

// DefaultBuckets suit durations in seconds from 5 ms to 10 s.
var DefaultBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Histogram counts observations (durations in seconds) into fixed
// buckets. A mutex, not atomics, guards it so that a scrape always sees
// buckets, sum and count of the same set of observations.
type Histogram struct {
	fam    family
	bounds []float64 // upper bounds, strictly increasing, +Inf implied

	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; last is the +Inf bucket
	sum    float64
	count  uint64
}

// NewHistogram returns a histogram with the given bucket upper bounds
// (strictly increasing; a trailing +Inf is implied). nil means
// DefaultBuckets.
func NewHistogram(name, help string, buckets []float64) *Histogram {
	if buckets == nil {
		buckets = DefaultBuckets
	}
	bounds := slices.Clone(buckets)
	if n := len(bounds); n > 0 && math.IsInf(bounds[n-1], +1) {
		bounds = bounds[:n-1]
	}
	for i, ub := range bounds {
		if math.IsNaN(ub) || math.IsInf(ub, 0) || (i > 0 && ub <= bounds[i-1]) {
			panic(fmt.Sprintf("metrics: histogram %s: buckets %v are not finite and strictly increasing", name, buckets))
		}
	}
	return &Histogram{
		fam:    newFamily(name, help, "histogram"),
		bounds: bounds,
		counts: make([]uint64, len(bounds)+1),
	}
}

// Observe records one observation, in seconds for durations.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v: the "le" bucket
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.count++
	h.mu.Unlock()
}

func (h *Histogram) describe() *family { return &h.fam }

func (h *Histogram) writeSamples(_ context.Context, b *bytes.Buffer) error {
	h.mu.Lock()
	counts := slices.Clone(h.counts)
	sum, count := h.sum, h.count
	h.mu.Unlock()

	var cumulative uint64
	for i, c := range counts {
		cumulative += c
		le := "+Inf"
		if i < len(h.bounds) {
			le = formatFloat(h.bounds[i])
		}
		writeSample(b, h.fam.name+"_bucket", `{le="`+le+`"}`, float64(cumulative))
	}
	writeSample(b, h.fam.name+"_sum", "", sum)
	writeSample(b, h.fam.name+"_count", "", float64(count))
	return nil
}

// Registry holds the collectors that one Handler exposes.
type Registry struct {
	mu         sync.Mutex
	collectors []Collector       // sorted by family name
	owners     map[string]string // sample name → family name
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{owners: make(map[string]string)}
}

// Register adds collectors. It fails, registering none of them, when a
// family name, or a sample name such as a histogram's x_count, is taken.
func (r *Registry) Register(cs ...Collector) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	added := make(map[string]string)
	for _, c := range cs {
		if c == nil {
			return errors.New("register metrics: nil collector")
		}
		f := c.describe()
		for _, s := range f.sampleNames() {
			owner, ok := r.owners[s]
			if !ok {
				owner, ok = added[s]
			}
			if ok {
				return fmt.Errorf("register metric %s: sample name %s already used by metric %s", f.name, s, owner)
			}
			added[s] = f.name
		}
	}
	for s, owner := range added {
		r.owners[s] = owner
	}
	r.collectors = append(r.collectors, cs...)
	slices.SortFunc(r.collectors, func(a, b Collector) int { return strings.Compare(a.describe().name, b.describe().name) })
	return nil
}

// MustRegister is Register for metrics set up at program start; it panics
// on error.
func (r *Registry) MustRegister(cs ...Collector) {
	if err := r.Register(cs...); err != nil {
		panic(err)
	}
}

// Handler serves the registry's metrics in the text format, families
// sorted by name, for Prometheus to scrape.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body := r.expose(req.Context())
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body) // the scraper hung up; nothing to do
	})
}

// expose renders every family. A family that fails or has no samples (a
// CounterVec never used) is left out entirely.
func (r *Registry) expose(ctx context.Context) []byte {
	r.mu.Lock()
	cs := slices.Clone(r.collectors)
	r.mu.Unlock()

	var out, samples bytes.Buffer
	for _, c := range cs {
		f := c.describe()
		samples.Reset()
		if err := c.writeSamples(ctx, &samples); err != nil {
			fmt.Fprintf(&out, "# ERROR %s omitted: %s\n", f.name, oneLine(err.Error()))
			continue
		}
		if samples.Len() == 0 {
			continue
		}
		if f.help != "" {
			fmt.Fprintf(&out, "# HELP %s %s\n", f.name, helpEscaper.Replace(f.help))
		}
		fmt.Fprintf(&out, "# TYPE %s %s\n", f.name, f.typ)
		out.Write(samples.Bytes())
	}
	return out.Bytes()
}

var (
	// helpEscaper escapes HELP text as the format requires.
	helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	// labelEscaper escapes label values as the format requires.
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// oneLine keeps an error message on its comment line.
func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// renderLabels renders {name="value",...}.
func renderLabels(names, values []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(strings.ToValidUTF8(values[i], "\uFFFD")))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

func writeSample(b *bytes.Buffer, name, labels string, v float64) {
	b.WriteString(name)
	b.WriteString(labels)
	b.WriteByte(' ')
	b.WriteString(formatFloat(v))
	b.WriteByte('\n')
}

// formatFloat writes v the way Prometheus parses it: shortest exact
// decimal, and +Inf, -Inf, NaN spelt as the format wants.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, +1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
