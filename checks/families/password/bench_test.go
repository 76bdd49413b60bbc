package password

import (
	"context"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
)

// BenchmarkFamily runs every password check once per iteration on a fresh
// host (so nothing is cached between scans), as one scan does.
func BenchmarkFamily(b *testing.B) {
	for _, fixture := range []string{"testdata/debian_pass", "testdata/rhel_pass"} {
		b.Run(fixture, func(b *testing.B) {
			var cs []checks.Check
			var ps []checks.Params
			for _, id := range allChecks {
				c, _ := checks.Lookup(id)
				p, err := checks.Resolve(c.Meta().Params, nil)
				if err != nil {
					b.Fatal(err)
				}
				cs, ps = append(cs, c), append(ps, p)
			}
			ctx := context.Background()
			for b.Loop() {
				h := checktest.Host(b, fixture)
				for i, c := range cs {
					if r := c.Run(ctx, h, ps[i]); r.Status == checks.StatusError {
						b.Fatalf("%s: %s", c.Meta().ID, r.Message)
					}
				}
			}
		})
	}
}
