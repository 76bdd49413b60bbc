package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plumbline/plumbline/checks"
)

// newTable aligns columns for people; cells must not contain tabs.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one table row. Values come from agents and from files on
// scanned hosts: tabs and newlines would break the columns, and terminal
// escape sequences could rewrite what the operator sees (a FAIL shown as
// PASS), so every control character becomes a space or "?".
func row(tw io.Writer, cells ...string) {
	for i, c := range cells {
		cells[i] = strings.Map(func(r rune) rune {
			switch {
			case r == '\t' || r == '\n' || r == '\r':
				return ' '
			case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
				return '?'
			}
			return r
		}, c)
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
}

// ago renders t relative to now: "3m ago", "in 2d", "never".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in " + span(-d)
	case d < time.Second:
		return "just now"
	}
	return span(d) + " ago"
}

// span renders a duration in its largest useful unit, as people say it.
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }

// when renders t relative and absolute: "3m ago (2025-03-01T12:00:00Z)".
func when(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return fmt.Sprintf("%s (%s)", ago(now, t), t.UTC().Format(time.RFC3339))
}

// until renders an end time absolute first, since that is what a
// waiver is agreed on: "2025-03-31T13:00:00Z (in 30d)".
func until(now, t time.Time) string {
	return fmt.Sprintf("%s (%s)", t.UTC().Format(time.RFC3339), ago(now, t))
}

// score renders a host score as "87.5%", "-" when there is none.
func score(s *float64) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", *s)
}

// evidence renders one evidence item as "key  expected → actual  path:line".
func evidence(e checks.Evidence) string {
	var b strings.Builder
	b.WriteString(e.Key)
	b.WriteString("  ")
	if e.Expected != "" {
		b.WriteString(e.Expected)
		b.WriteString(" → ")
	}
	b.WriteString(e.Actual)
	if src := e.Source(); src != "" {
		b.WriteString("  ")
		b.WriteString(src)
	}
	return b.String()
}

// failing returns the evidence items that did not meet the expectation.
func failing(ev []checks.Evidence) []checks.Evidence {
	var out []checks.Evidence
	for _, e := range ev {
		if !e.OK {
			out = append(out, e)
		}
	}
	return out
}

// list renders ids as "a, b, c +4 more".
func list(ids []string, max int) string {
	if len(ids) <= max {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s +%d more", strings.Join(ids[:max], ", "), len(ids)-max)
}

// plural renders "1 host", "2 hosts".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
