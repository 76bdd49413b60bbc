package firstparty_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/checktest"
	"github.com/plumbline/plumbline/checks/engine"
	"github.com/plumbline/plumbline/checks/hostfs"
	"github.com/plumbline/plumbline/plugins/loader"
)

const benchHost = "../../agent/cmd/plumbline-agent/testdata/hosts/debian12-server"

// entriesFor returns the entries of every check of the given families (by
// id namespace), resolved through lookup (the built-in registry or a plugin
// session), with default parameters.
func entriesFor(b testing.TB, lookup func(string) (checks.Check, bool), names ...string) []baseline.Entry {
	b.Helper()
	var out []baseline.Entry
	for _, c := range checks.All() {
		id := c.Meta().ID
		if ns, _, _ := strings.Cut(id, "."); !slices.Contains(names, ns) {
			continue
		}
		pc, ok := lookup(id)
		if !ok {
			b.Fatalf("%s not provided", id)
		}
		p, err := checks.Resolve(pc.Meta().Params, nil)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, baseline.Entry{Check: pc, Params: p, Severity: pc.Meta().Severity})
	}
	return out
}

// benchConfig is the loader configuration for one plugin, or all four, run
// as nobody as the agent does by default.
func benchConfig(b *testing.B, names ...string) loader.Config {
	b.Helper()
	if len(names) == 1 {
		return loader.Config{Dir: filepath.Join(pluginDir, names[0]), Pins: pins(b, names[0]), RunDir: b.TempDir(), User: "nobody", Logger: slog.New(slog.DiscardHandler)}
	}
	return loader.Config{Dir: allDir, Pins: allPins(b), RunDir: b.TempDir(), User: "nobody", Logger: slog.New(slog.DiscardHandler)}
}

// BenchmarkPluginOverhead measures what running a family as a plugin costs
// over running it linked in: verify (sha256 of the binary) + launch +
// describe + configure + run + stop and kill, per plugin, on the Debian 12
// fixture host. overhead-ms is the mean plugin run minus the mean linked
// run; peak-RSS-MB is the plugin process's VmHWM.
func BenchmarkPluginOverhead(b *testing.B) {
	root := checktest.Materialize(b, benchHost)
	h, err := hostfs.New(hostfs.Options{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"sudo", "password", "dlp", "diskcrypt"} {
		b.Run(name, func(b *testing.B) {
			linkedEntries := entriesFor(b, checks.Lookup, name)
			const warm = 20
			start := time.Now()
			for range warm {
				engine.Run(ctx, h, linkedEntries, engine.Options{})
			}
			linked := time.Since(start) / warm
			cfg := benchConfig(b, name)
			var rss int64
			b.ResetTimer()
			for b.Loop() {
				sess, err := loader.Open(ctx, cfg, h)
				if err != nil {
					b.Fatal(err)
				}
				engine.Run(ctx, h, entriesFor(b, sess.Lookup, name), engine.Options{})
				sess.Close()
				for _, s := range sess.Stats() {
					rss = max(rss, s.PeakRSS)
				}
			}
			perOp := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(linked.Microseconds())/1000, "linked-ms")
			b.ReportMetric(float64((perOp-linked).Microseconds())/1000, "overhead-ms")
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
		})
	}
}

// BenchmarkFamiliesScan runs all four first-party families on the fixture
// host linked in and as four plugins (launched concurrently).
func BenchmarkFamiliesScan(b *testing.B) {
	root := checktest.Materialize(b, benchHost)
	h, err := hostfs.New(hostfs.Options{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	all := []string{"sudo", "password", "dlp", "diskcrypt"}
	b.Run("linked", func(b *testing.B) {
		entries := entriesFor(b, checks.Lookup, all...)
		for b.Loop() {
			engine.Run(ctx, h, entries, engine.Options{})
		}
	})
	b.Run("plugins", func(b *testing.B) {
		cfg := benchConfig(b, all...)
		var rss int64
		for b.Loop() {
			sess, err := loader.Open(ctx, cfg, h)
			if err != nil {
				b.Fatal(err)
			}
			engine.Run(ctx, h, entriesFor(b, sess.Lookup, all...), engine.Options{})
			sess.Close()
			var sum int64
			for _, s := range sess.Stats() {
				sum += s.PeakRSS
			}
			rss = max(rss, sum)
		}
		b.ReportMetric(float64(rss)/(1<<20), "sum-peak-RSS-MB")
	})
}
