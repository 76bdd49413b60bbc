package service

import (
	"context"
	"net/http"
	"time"

	"github.com/plumbline/plumbline/server/metrics"
	"github.com/plumbline/plumbline/server/store"
)

// serviceMetrics are the server's Prometheus metrics.
type serviceMetrics struct {
	reg      *metrics.Registry
	ingested *metrics.CounterVec
	rejects  *metrics.CounterVec
	latency  *metrics.Histogram
}

func newMetrics(s *Service) *serviceMetrics {
	m := &serviceMetrics{
		reg: metrics.NewRegistry(),
		ingested: metrics.NewCounterVec("plumbline_reports_ingested_total",
			"Reports taken from the stream, by outcome (applied, duplicate, out_of_order).", "outcome"),
		rejects: metrics.NewCounterVec("plumbline_reports_rejected_total",
			"Messages on the report subject rejected as malformed, by reason.", "reason"),
		latency: metrics.NewHistogram("plumbline_ingest_latency_seconds",
			"Time from a report's arrival in the stream to its commit in the store.",
			[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}),
	}
	stat := func(pick func(store.Stats) int) func(ctx context.Context) (float64, error) {
		return func(ctx context.Context) (float64, error) {
			st, err := s.store.Stats(ctx, time.Now())
			return float64(pick(st)), err
		}
	}
	m.reg.MustRegister(m.ingested, m.rejects, m.latency,
		metrics.NewGaugeFunc("plumbline_open_deviations", "Checks currently FAIL and not waived, fleet-wide.",
			stat(func(st store.Stats) int { return st.OpenDeviations })),
		metrics.NewGaugeFunc("plumbline_stale_hosts", "Hosts with no report within twice their scan interval plus grace.",
			stat(func(st store.Stats) int { return st.StaleHosts })),
		metrics.NewGaugeFunc("plumbline_hosts", "Hosts that have reported at least once.",
			stat(func(st store.Stats) int { return st.Hosts })),
		metrics.NewGaugeFunc("plumbline_ingest_healthy", "1 while the store accepts reports, 0 after a failed batch until one succeeds.",
			func(context.Context) (float64, error) {
				if s.ingest.Healthy() != nil {
					return 0, nil
				}
				return 1, nil
			}),
	)
	return m
}

func (m *serviceMetrics) observe(o store.Outcome, latency time.Duration) {
	m.ingested.WithLabelValues(o.String()).Inc()
	if o == store.Applied {
		m.latency.Observe(latency.Seconds())
	}
}

func (m *serviceMetrics) rejected(reason string) { m.rejects.WithLabelValues(reason).Inc() }

func (m *serviceMetrics) handler() http.Handler { return m.reg.Handler() }
