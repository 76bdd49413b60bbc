package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/plumbline/plumbline/checks"
)

// Format is an output format for a report.
type Format string

// The output formats.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatJUnit Format = "junit"
	FormatOCSF  Format = "ocsf"
)

// Formats lists the formats in the order help texts show them.
var Formats = []Format{FormatTable, FormatJSON, FormatJUnit, FormatOCSF}

// ParseFormat validates a format name.
func ParseFormat(s string) (Format, error) {
	if slices.Contains(Formats, Format(s)) {
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown format %q (want table, json, junit or ocsf)", s)
}

// MetaLookup finds a check's metadata for formats that carry references;
// checks.Lookup is the usual one.
type MetaLookup func(id string) (checks.Check, bool)

// Write renders r in format f.
func Write(w io.Writer, f Format, r *Report, lookup MetaLookup) error {
	switch f {
	case FormatTable:
		return WriteTable(w, r)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatJUnit:
		return WriteJUnit(w, r)
	case FormatOCSF:
		return WriteOCSF(w, r, lookup)
	default:
		return fmt.Errorf("unknown format %q", f)
	}
}

// statusOrder puts what needs attention first.
var statusOrder = map[checks.Status]int{
	checks.StatusFail: 0, checks.StatusError: 1, checks.StatusPass: 2,
	checks.StatusNotApplicable: 3, checks.StatusSkipped: 4,
}

// WriteTable renders a report for people: failures first with the evidence
// that failed, then errors with their reasons, then the rest, then counts.
func WriteTable(w io.Writer, r *Report) error {
	host := r.Host.ID
	if r.Host.Hostname != "" {
		host = r.Host.Hostname + " (" + r.Host.ID + ")"
	}
	if r.Host.Root != "" {
		host += " root " + r.Host.Root
	}
	fmt.Fprintf(w, "plumbline scan of %s, %s\nbaseline %s %s, %d checks in %s\n\n",
		host, r.Facts.OS, r.Baseline.Name, r.Baseline.Version, len(r.Results),
		r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond/10))
	results := slices.Clone(r.Results)
	slices.SortStableFunc(results, func(a, b checks.Result) int {
		if c := statusOrder[a.Status] - statusOrder[b.Status]; c != 0 {
			return c
		}
		return int(b.Severity) - int(a.Severity)
	})
	// Columns are sized from the rows alone; the indented detail lines
	// under a row may be wider and must not stretch them.
	idWidth := len("CHECK")
	for _, res := range results {
		idWidth = max(idWidth, len(res.ID))
	}
	const statusWidth, sevWidth = len("NOT_APPLICABLE"), len("critical")
	detailIndent := strings.Repeat(" ", statusWidth+2+sevWidth+2+2)
	row := func(status, sev, id, title string) {
		fmt.Fprintf(w, "%-*s  %-*s  %-*s  %s\n", statusWidth, status, sevWidth, sev, idWidth, id, title)
	}
	row("STATUS", "SEVERITY", "CHECK", "TITLE")
	for _, res := range results {
		row(res.Status.String(), res.Severity.String(), res.ID, res.Title)
		switch res.Status {
		case checks.StatusFail:
			fmt.Fprintf(w, "%s%s\n", detailIndent, res.Message)
			for _, e := range res.Evidence {
				if !e.OK {
					fmt.Fprintf(w, "%s- %s\n", detailIndent, evidenceLine(e))
				}
			}
		case checks.StatusError, checks.StatusNotApplicable, checks.StatusSkipped:
			fmt.Fprintf(w, "%s%s\n", detailIndent, firstLine([]byte(res.Message)))
		}
	}
	s := r.Summary
	_, err := fmt.Fprintf(w, "\n%d pass, %d fail, %d error, %d not applicable, %d skipped\n",
		s.Pass, s.Fail, s.Error, s.NotApplicable, s.Skipped)
	return err
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

func evidenceLine(e checks.Evidence) string {
	var b strings.Builder
	b.WriteString(e.Key)
	b.WriteString(": found ")
	if e.Actual == "" {
		b.WriteString("nothing")
	} else {
		b.WriteString(e.Actual)
	}
	if e.Expected != "" {
		b.WriteString(", expected ")
		b.WriteString(e.Expected)
	}
	if src := e.Source(); src != "" {
		b.WriteString(" (")
		b.WriteString(src)
		b.WriteString(")")
	}
	return b.String()
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Name    string       `xml:"name,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Hostname  string      `xml:"hostname,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// WriteJUnit renders a report as JUnit XML: one suite per check family,
// one case per check; FAIL is a failure, ERROR an error, NOT_APPLICABLE and
// SKIPPED are skipped.
func WriteJUnit(w io.Writer, r *Report) error {
	suites := map[string]*junitSuite{}
	var order []string
	for _, res := range r.Results {
		family, _, _ := strings.Cut(res.ID, ".")
		s, ok := suites[family]
		if !ok {
			s = &junitSuite{Name: family, Timestamp: r.StartedAt.UTC().Format(time.RFC3339), Hostname: r.Host.ID}
			suites[family] = s
			order = append(order, family)
		}
		c := junitCase{Name: res.ID + ": " + res.Title, Classname: "plumbline." + family,
			Time: fmt.Sprintf("%.6f", time.Duration(res.Duration).Seconds())}
		s.Tests++
		switch res.Status {
		case checks.StatusFail:
			s.Failures++
			var body []string
			for _, e := range res.Evidence {
				if !e.OK {
					body = append(body, evidenceLine(e))
				}
			}
			c.Failure = &junitMessage{Message: res.Message, Type: res.Severity.String(), Body: strings.Join(body, "\n")}
		case checks.StatusError:
			s.Errors++
			c.Error = &junitMessage{Message: firstLine([]byte(res.Message)), Body: res.Message}
		case checks.StatusNotApplicable, checks.StatusSkipped:
			s.Skipped++
			c.Skipped = &junitMessage{Message: res.Status.String() + ": " + res.Message}
		}
		s.Cases = append(s.Cases, c)
	}
	out := junitSuites{Name: "plumbline " + r.Baseline.Name + " " + r.Baseline.Version}
	for _, f := range order {
		s := suites[f]
		var total time.Duration
		for _, res := range r.Results {
			if strings.HasPrefix(res.ID, f+".") {
				total += time.Duration(res.Duration)
			}
		}
		s.Time = fmt.Sprintf("%.6f", total.Seconds())
		out.Suites = append(out.Suites, *s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
