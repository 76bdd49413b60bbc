package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/baseline"
	"github.com/plumbline/plumbline/checks/declarative"
	_ "github.com/plumbline/plumbline/checks/families" // registers the built-in checks
)

func cmdChecks(args []string, stdout, stderr io.Writer) error {
	const checksUsage = "Usage: plumbline-agent checks list [--json] | describe ID [--json]\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, checksUsage)
		return errUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, checksUsage)
		return nil
	}
	fs := flag.NewFlagSet("checks "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	// Accept the flag before or after the id.
	var positional []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			if err == flag.ErrHelp {
				return err
			}
			return errUsage // the flag package has printed the problem
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	switch args[0] {
	case "list":
		all := checks.All()
		if *asJSON {
			metas := make([]checks.Meta, len(all))
			for i, c := range all {
				metas[i] = c.Meta()
			}
			return writeJSON(stdout, metas)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CHECK\tSEVERITY\tTITLE")
		for _, c := range all {
			m := c.Meta()
			fmt.Fprintf(tw, "%s\t%s\t%s\n", m.ID, m.Severity, m.Title)
		}
		return tw.Flush()
	case "describe":
		if len(positional) != 1 {
			return fmt.Errorf("checks describe takes one check id")
		}
		c, ok := checks.Lookup(positional[0])
		if !ok {
			return fmt.Errorf("unknown check %q (see \"plumbline-agent checks list\")", positional[0])
		}
		d, _ := c.(*declarative.Check)
		if *asJSON {
			out := struct {
				checks.Meta
				Source     string `json:"source,omitempty"`
				CISLevel   int    `json:"cis_level,omitempty"`
				Assessment string `json:"assessment,omitempty"`
				Definition string `json:"definition,omitempty"`
			}{Meta: c.Meta()}
			if d != nil {
				out.Source, out.CISLevel, out.Assessment, out.Definition = d.Source(), d.Level(), d.Assessment(), d.Definition()
			}
			return writeJSON(stdout, out)
		}
		if err := describe(stdout, c.Meta()); err != nil || d == nil {
			return err
		}
		fmt.Fprintf(stdout, "\nCIS level %d, %s. Defined at %s:\n\n%s\n", d.Level(), d.Assessment(), d.Source(), d.Definition())
		return nil
	default:
		return fmt.Errorf("unknown checks subcommand %q (want list or describe)", args[0])
	}
}

func describe(w io.Writer, m checks.Meta) error {
	fmt.Fprintf(w, "%s — %s\n\nfamily:    %s\nseverity:  %s\n", m.ID, m.Title, m.Family, m.Severity)
	if len(m.Platforms) > 0 {
		fmt.Fprintf(w, "platforms: %s\n", strings.Join(m.Platforms, ", "))
	}
	fmt.Fprintf(w, "\nWhy:\n%s\n\nFix:\n%s\n", indent(m.Rationale), indent(m.Remediation))
	if len(m.Params) > 0 {
		fmt.Fprintln(w, "\nParameters (set them in a baseline):")
		for _, p := range m.Params {
			fmt.Fprintf(w, "  %s (%s, default %v)\n      %s\n", p.Name, p.Kind, p.Default, p.Doc)
		}
	}
	if len(m.References) > 0 {
		fmt.Fprintln(w, "\nReferences:")
		for _, r := range m.References {
			fmt.Fprintf(w, "  %s %s\n", r.Framework, r.Control)
		}
	}
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n  ")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func cmdBaselines(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "list" {
		return fmt.Errorf("usage: plumbline-agent baselines list")
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BASELINE\tVERSION\tCHECKS\tDESCRIPTION")
	for _, name := range baseline.BuiltinNames() {
		b, err := baseline.Builtin(name)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", b.Name, b.Version, len(b.Entries), b.Description)
	}
	return tw.Flush()
}
