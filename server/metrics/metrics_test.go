package metrics

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// scrape serves r's handler once and returns the body.
func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	res := rec.Result()
	if res.StatusCode != http.StatusOK {
		t.Errorf("status = %d; want 200", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestExposition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(r *Registry)
		want  string
	}{
		{
			name: "counter",
			setup: func(r *Registry) {
				c := NewCounter("plumbline_reports_total", "Reports stored.")
				r.MustRegister(c)
				c.Inc()
				c.Add(2.5)
			},
			want: "# HELP plumbline_reports_total Reports stored.\n" +
				"# TYPE plumbline_reports_total counter\n" +
				"plumbline_reports_total 3.5\n",
		},
		{
			name: "counter vec sorted by label values",
			setup: func(r *Registry) {
				v := NewCounterVec("plumbline_ingest_total", "Reports by outcome.", "outcome", "schema")
				r.MustRegister(v)
				v.WithLabelValues("duplicate", "v1").Inc()
				v.WithLabelValues("applied", "v2").Add(1e6)
				v.WithLabelValues("applied", "v1").Inc()
				v.WithLabelValues("applied", "v1").Inc()
				v.WithLabelValues("app", "v1").Inc() // a prefix sorts first
			},
			want: "# HELP plumbline_ingest_total Reports by outcome.\n" +
				"# TYPE plumbline_ingest_total counter\n" +
				`plumbline_ingest_total{outcome="app",schema="v1"} 1` + "\n" +
				`plumbline_ingest_total{outcome="applied",schema="v1"} 2` + "\n" +
				`plumbline_ingest_total{outcome="applied",schema="v2"} 1e+06` + "\n" +
				`plumbline_ingest_total{outcome="duplicate",schema="v1"} 1` + "\n",
		},
		{
			name: "unused counter vec is left out",
			setup: func(r *Registry) {
				r.MustRegister(NewCounterVec("plumbline_unused_total", "Never used.", "x"))
			},
			want: "",
		},
		{
			name: "gauge",
			setup: func(r *Registry) {
				g := NewGauge("plumbline_agents_connected", "Connected agents.")
				r.MustRegister(g)
				g.Set(42)
				g.Set(-0.25)
			},
			want: "# HELP plumbline_agents_connected Connected agents.\n" +
				"# TYPE plumbline_agents_connected gauge\n" +
				"plumbline_agents_connected -0.25\n",
		},
		{
			name: "gauge special values",
			setup: func(r *Registry) {
				g := NewGauge("g", "")
				r.MustRegister(g)
				g.Set(math.Inf(+1))
			},
			want: "# TYPE g gauge\ng +Inf\n",
		},
		{
			name: "gauge func",
			setup: func(r *Registry) {
				r.MustRegister(NewGaugeFunc("plumbline_deviations_open", "Open deviations.",
					func(context.Context) (float64, error) { return 17, nil }))
			},
			want: "# HELP plumbline_deviations_open Open deviations.\n" +
				"# TYPE plumbline_deviations_open gauge\n" +
				"plumbline_deviations_open 17\n",
		},
		{
			name: "histogram",
			setup: func(r *Registry) {
				h := NewHistogram("plumbline_ingest_seconds", "Time to store one report.", []float64{0.125, 0.5, 1})
				r.MustRegister(h)
				for _, v := range []float64{0.0625, 0.125, 0.25, 0.75, 0.75, 3} {
					h.Observe(v)
				}
			},
			// Buckets are cumulative and "le" includes the bound itself.
			want: "# HELP plumbline_ingest_seconds Time to store one report.\n" +
				"# TYPE plumbline_ingest_seconds histogram\n" +
				`plumbline_ingest_seconds_bucket{le="0.125"} 2` + "\n" +
				`plumbline_ingest_seconds_bucket{le="0.5"} 3` + "\n" +
				`plumbline_ingest_seconds_bucket{le="1"} 5` + "\n" +
				`plumbline_ingest_seconds_bucket{le="+Inf"} 6` + "\n" +
				"plumbline_ingest_seconds_sum 4.9375\n" +
				"plumbline_ingest_seconds_count 6\n",
		},
		{
			name: "empty histogram",
			setup: func(r *Registry) {
				r.MustRegister(NewHistogram("h", "H.", []float64{1, math.Inf(+1)}))
			},
			want: "# HELP h H.\n# TYPE h histogram\n" +
				`h_bucket{le="1"} 0` + "\n" +
				`h_bucket{le="+Inf"} 0` + "\n" +
				"h_sum 0\nh_count 0\n",
		},
		{
			name: "families sorted by name",
			setup: func(r *Registry) {
				r.MustRegister(NewGauge("b", "B."), NewCounter("c_total", "C."))
				r.MustRegister(NewGauge("a", "A."))
			},
			want: "# HELP a A.\n# TYPE a gauge\na 0\n" +
				"# HELP b B.\n# TYPE b gauge\nb 0\n" +
				"# HELP c_total C.\n# TYPE c_total counter\nc_total 0\n",
		},
		{
			name: "escaping",
			setup: func(r *Registry) {
				v := NewCounterVec("esc_total", "Help with \\ and\nnewline and \"quotes\".", "path")
				r.MustRegister(v)
				v.WithLabelValues("C:\\dir\n\"x\"").Inc()
				v.WithLabelValues("bad \xff utf8").Inc()
			},
			// HELP escapes backslash and newline only; label values
			// also escape the double quote.
			want: "# HELP esc_total Help with \\\\ and\\nnewline and \"quotes\".\n" +
				"# TYPE esc_total counter\n" +
				`esc_total{path="C:\\dir\n\"x\""} 1` + "\n" +
				`esc_total{path="bad ` + "\uFFFD" + ` utf8"} 1` + "\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := NewRegistry()
			tc.setup(r)
			if got := scrape(t, r); got != tc.want {
				t.Errorf("exposition:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestGaugeFuncErrorOmitsOnlyThatMetric(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	type ctxKey struct{}
	var gotCtx context.Context
	r.MustRegister(
		NewGaugeFunc("plumbline_hosts", "Known hosts.", func(ctx context.Context) (float64, error) {
			gotCtx = ctx
			return 0, errors.New("count hosts: database is locked\nretry later")
		}),
		NewGauge("plumbline_up", "Up."),
	)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req = req.WithContext(context.WithValue(req.Context(), ctxKey{}, "scrape"))
	r.Handler().ServeHTTP(rec, req)

	want := "# ERROR plumbline_hosts omitted: count hosts: database is locked retry later\n" +
		"# HELP plumbline_up Up.\n# TYPE plumbline_up gauge\nplumbline_up 0\n"
	if rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Errorf("status %d, body:\n%s\nwant 200 and:\n%s", rec.Code, rec.Body.String(), want)
	}
	if gotCtx == nil || gotCtx.Value(ctxKey{}) != "scrape" {
		t.Error("GaugeFunc did not get the scrape request's context")
	}
}

func TestRegisterRejectsClashes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing Collector
		add      []Collector
	}{
		{"same name", NewCounter("x_total", ""), []Collector{NewGauge("x_total", "")}},
		{"histogram sample", NewHistogram("lat", "", nil), []Collector{NewCounter("lat_count", "")}},
		{"within one call", NewGauge("other", ""), []Collector{NewGauge("y", ""), NewGauge("y", "")}},
		{"nil", NewGauge("other", ""), []Collector{nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := NewRegistry()
			r.MustRegister(tc.existing)
			if err := r.Register(tc.add...); err == nil {
				t.Fatal("Register succeeded; want an error")
			}
			// Nothing of a failed call is registered.
			if err := r.Register(NewGauge("y", "")); err != nil {
				t.Errorf("Register after a failed call: %v", err)
			}
		})
	}
}

func TestConstructorsPanicOnProgrammingErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]func(){
		"metric name":         func() { NewGauge("bad-name", "") },
		"label name":          func() { NewCounterVec("c", "", "bad-label") },
		"reserved label":      func() { NewCounterVec("c", "", "__name") },
		"duplicate label":     func() { NewCounterVec("c", "", "a", "a") },
		"no labels":           func() { NewCounterVec("c", "") },
		"label value count":   func() { NewCounterVec("c", "", "a", "b").WithLabelValues("x") },
		"unsorted buckets":    func() { NewHistogram("h", "", []float64{1, 0.5}) },
		"duplicate buckets":   func() { NewHistogram("h", "", []float64{1, 1}) },
		"NaN bucket":          func() { NewHistogram("h", "", []float64{math.NaN()}) },
		"negative increments": func() { NewCounter("c", "").Add(-1) },
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func TestConcurrentUpdates(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	c := NewCounter("c_total", "")
	v := NewCounterVec("v_total", "", "k")
	g := NewGauge("g", "")
	h := NewHistogram("h", "", []float64{1})
	r.MustRegister(c, v, g, h)

	const workers, each = 8, 1000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				c.Inc()
				v.WithLabelValues([]string{"a", "b"}[i%2]).Inc()
				g.Set(float64(w))
				h.Observe(0.5)
			}
		})
	}
	wg.Go(func() { // scrapes race with updates
		for range 20 {
			scrape(t, r)
		}
	})
	wg.Wait()

	if got := c.Value(); got != workers*each {
		t.Errorf("counter = %g; want %d", got, workers*each)
	}
	if a, b := v.WithLabelValues("a").Value(), v.WithLabelValues("b").Value(); a+b != workers*each || a != b {
		t.Errorf("vec a, b = %g, %g; want %d each", a, b, workers*each/2)
	}
	if !strings.Contains(scrape(t, r), "h_count 8000\n") {
		t.Error("histogram lost observations")
	}
}
