package sudolog

import (
	"context"
	"errors"
	"io/fs"
	"net/url"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/syslogconf"
	"github.com/plumbline/plumbline/checks/pkgdb"
	"github.com/plumbline/plumbline/checks/systemd"
)

func init() {
	register(check{
		meta: checks.Meta{
			ID:       "sudo.log_forwarding",
			Title:    "Logs, including sudo's, are forwarded to a remote log host",
			Severity: checks.SeverityHigh,
			Rationale: "Logs kept only on the host can be erased by whoever gains root on it, sudo users " +
				"included; forwarding them as they are written to a central log host keeps the record of " +
				"privileged activity out of reach and lets it be monitored.",
			Remediation: "Either forward with rsyslog: apt/dnf install rsyslog, add to /etc/rsyslog.d/60-remote.conf\n" +
				"  *.* action(type=\"omfwd\" target=\"loghost.example.com\" port=\"514\" protocol=\"tcp\" " +
				"queue.type=\"LinkedList\" queue.filename=\"fwd\" queue.saveOnShutdown=\"on\" action.resumeRetryCount=\"-1\")\n" +
				"and run systemctl --now enable rsyslog && systemctl restart rsyslog; " +
				"or upload the journal: install systemd-journal-remote, set URL=https://loghost.example.com:19532 " +
				"under [Upload] in /etc/systemd/journal-upload.conf and run systemctl --now enable systemd-journal-upload.",
			References: checks.CIS(
				"debian:12", "6.1.3.6", "debian:12", "6.1.2.1.3",
				"ubuntu:22.04", "6.2.1.2.3",
				"ubuntu:24.04", "6.1.3.6", "ubuntu:24.04", "6.1.2.1.3",
				"rhel:9", "6.2.3.6", "rhel:9", "6.2.2.1.3",
				"alinux:3", "4.2.1.5",
			),
			Params: []checks.ParamSpec{
				{Name: "check_sudo_facility", Kind: checks.KindBool, Default: true,
					Doc: "Require that sudo logs to syslog and that an rsyslog forwarding rule's selector lets sudo's " +
						"messages through: facility from \"Defaults syslog=\" (default authpriv) at the priority " +
						"of \"Defaults syslog_goodpri=\" (default notice)."},
				{Name: "allow_loopback", Kind: checks.KindBool, Default: false,
					Doc: "Count forwarding to localhost (for example to a local relay agent) as off-host."},
			},
		},
		run: runLogForwarding,
	})
}

// forwarding is the verdict on one shipping mechanism.
type forwarding struct {
	ok bool
	// summary says in a few words why it does or does not forward.
	summary string
	// evidence for a FAIL; good is the subset shown on PASS.
	evidence []checks.Evidence
	good     []checks.Evidence
}

func (f *forwarding) add(ev checks.Evidence) {
	f.evidence = append(f.evidence, ev)
	if ev.OK {
		f.good = append(f.good, ev)
	}
}

func runLogForwarding(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	facility, severity := "authpriv", "notice"
	var sudoEv []checks.Evidence
	sudoSyslogOff := false
	if p.Bool("check_sudo_facility") {
		cfg, missing, err := readSudoers(ctx, h)
		if err != nil {
			return checks.Errorf("cannot read the sudo policy to learn sudo's syslog facility: %v", err)
		}
		if !missing {
			ev := checks.Evidence{Key: "sudo syslog facility", Expected: "sudo logs to syslog", Actual: facility + " (default)", OK: true, Path: cfg.Files[0]}
			if s, ok := cfg.Effective("syslog"); ok {
				ev.Path, ev.Line = s.Last.Path, s.Last.Line
				switch {
				case !s.On:
					ev.Actual, ev.OK, sudoSyslogOff = "off ("+s.Last.String()+")", false, true
				case s.HasValue:
					facility = strings.ToLower(s.Value)
					ev.Actual = facility
				}
			}
			if s, ok := cfg.Effective("syslog_goodpri"); ok && s.HasValue {
				severity = strings.ToLower(s.Value)
			}
			sudoEv = append(sudoEv, ev)
		}
	}
	db, err := pkgdb.Read(ctx, h)
	if err != nil {
		return checks.Errorf("cannot tell which log shippers are installed: %v", err)
	}
	rsys, errRes := rsyslogForwarding(ctx, h, p, db, facility, severity)
	if errRes != nil {
		return *errRes
	}
	upload, errRes := journalUpload(ctx, h, p)
	if errRes != nil {
		return *errRes
	}
	all := append(append(append([]checks.Evidence{}, sudoEv...), rsys.evidence...), upload.evidence...)
	switch {
	case sudoSyslogOff && (rsys.ok || upload.ok):
		return checks.Fail("logs are forwarded, but sudo does not log to syslog ("+sudoEv[0].Actual+" at "+sudoEv[0].Source()+
			"), so its activity is not among them", all...)
	case rsys.ok:
		return checks.Pass("logs are forwarded off-host by rsyslog: "+rsys.summary, append(sudoEv, rsys.good...)...)
	case upload.ok:
		return checks.Pass("the journal is uploaded off-host by systemd-journal-upload: "+upload.summary, append(sudoEv, upload.good...)...)
	}
	for _, name := range []string{"syslog-ng", "syslog-ng-core"} {
		if pkg, ok := db.Lookup(name); ok {
			return checks.Errorf("no forwarding by rsyslog or systemd-journal-upload, but %s %s is installed and its configuration is not evaluated by this check",
				pkg.Name, pkg.Version)
		}
	}
	return checks.Fail("logs are not forwarded off-host: rsyslog "+rsys.summary+"; systemd-journal-upload "+upload.summary, all...)
}

func rsyslogForwarding(ctx context.Context, h checks.Host, p checks.Params, db *pkgdb.DB, facility, severity string) (forwarding, *checks.Result) {
	var f forwarding
	pkg, installed := db.Lookup("rsyslog")
	pkgEv := checks.Evidence{Key: "rsyslog package", Expected: "installed", Actual: "not installed", Path: db.Source}
	if installed {
		pkgEv.Actual, pkgEv.OK = pkg.Version, true
	}
	f.add(pkgEv)
	st, err := systemd.Unit(ctx, h, "rsyslog.service")
	if err != nil {
		r := checks.Errorf("cannot tell whether rsyslog is enabled: %v", err)
		return f, &r
	}
	enabled := st.Exists() && st.Enabled && !st.Masked
	unitEv := checks.Evidence{Key: "rsyslog.service", Expected: "enabled", Actual: st.String(), OK: enabled, Path: st.Path}
	if enabled {
		unitEv.Path = st.EnabledBy
	}
	f.add(unitEv)
	conf, err := syslogconf.ReadRsyslog(ctx, h)
	if errors.Is(err, fs.ErrNotExist) {
		f.add(checks.Evidence{Key: "rsyslog forwarding", Expected: "a remote forwarding action", Actual: "no " + syslogconf.RsyslogPath, Path: syslogconf.RsyslogPath})
		f.summary = "is not configured (no " + syslogconf.RsyslogPath + ")"
		return f, nil
	}
	if err != nil {
		r := checks.Errorf("cannot read the rsyslog configuration: %v", err)
		return f, &r
	}
	var good []string
	for _, fw := range conf.Forwards {
		ok, actual := judgeForward(fw, conf, p, facility, severity)
		f.add(checks.Evidence{Key: "rsyslog forwarding", Expected: "a remote target receiving " + facility + "." + severity, Actual: actual, OK: ok, Path: fw.Path, Line: fw.Line})
		if ok {
			good = append(good, fw.Destination()+" ("+fw.Source()+")")
		}
	}
	if len(conf.Forwards) == 0 {
		f.add(checks.Evidence{Key: "rsyslog forwarding", Expected: "a remote forwarding action", Actual: "none in " + strings.Join(conf.Files, ", "), Path: syslogconf.RsyslogPath})
	}
	blocked := false
	if !conf.HasModule("imjournal") {
		jd, err := syslogconf.ReadJournald(ctx, h)
		if err != nil {
			r := checks.Errorf("cannot read the journald configuration: %v", err)
			return f, &r
		}
		if e, ok := jd.Get("Journal", "ForwardToSyslog"); ok && isNo(e.Value) {
			blocked = true
			f.add(checks.Evidence{Key: "journald ForwardToSyslog", Expected: "yes, or rsyslog loading imjournal",
				Actual: e.Value + " and rsyslog does not load imjournal, so rsyslog receives no journal messages", Path: e.Path, Line: e.Line})
		}
	}
	switch {
	case len(good) == 0 && len(conf.Forwards) == 0:
		for _, u := range conf.Unparsed {
			if strings.Contains(u.Text, "omfwd") || strings.Contains(u.Text, "omrelp") || strings.Contains(u.Text, "@") {
				r := checks.Errorf("cannot decide: %s:%d holds an rsyslog statement this check does not understand and that may forward logs: %q", u.Path, u.Line, u.Text)
				return f, &r
			}
		}
		f.summary = "has no remote forwarding action"
	case len(good) == 0:
		f.summary = "has no usable remote forwarding action"
	case !installed:
		f.summary = "is configured to forward but not installed"
	case !enabled:
		f.summary = "forwards but rsyslog.service is " + st.String()
	case blocked:
		f.summary = "forwards but receives no messages from journald"
	default:
		f.ok, f.summary = true, strings.Join(good, ", ")
	}
	return f, nil
}

// judgeForward decides whether a forwarding action ships sudo's messages
// off the host and describes it.
func judgeForward(fw syslogconf.Forward, conf *syslogconf.Rsyslog, p checks.Params, facility, severity string) (bool, string) {
	actual := fw.Destination() + " for " + fw.Filter.String()
	switch {
	case fw.Target == "":
		return false, actual + ": no target"
	case isLoopback(fw.Target) && !p.Bool("allow_loopback"):
		return false, actual + ": a loopback target is not off-host"
	case fw.Filter.Ruleset != "" && !conf.Called(fw.Filter.Ruleset):
		return false, actual + ": ruleset " + fw.Filter.Ruleset + " is never called, so it only sees inputs bound to it"
	}
	if !p.Bool("check_sudo_facility") {
		return true, actual
	}
	match, known := fw.Filter.Matches(facility, severity)
	switch {
	case !known:
		return true, actual + " (filter not evaluated)"
	case !match:
		return false, actual + ": does not let " + facility + "." + severity + " (sudo's messages) through"
	}
	return true, actual
}

func journalUpload(ctx context.Context, h checks.Host, _ checks.Params) (forwarding, *checks.Result) {
	var f forwarding
	st, err := systemd.Unit(ctx, h, "systemd-journal-upload.service")
	if err != nil {
		r := checks.Errorf("cannot tell whether systemd-journal-upload is enabled: %v", err)
		return f, &r
	}
	enabled := st.Exists() && st.Enabled && !st.Masked
	unitEv := checks.Evidence{Key: "systemd-journal-upload.service", Expected: "enabled", Actual: st.String(), OK: enabled, Path: st.Path}
	if enabled {
		unitEv.Path = st.EnabledBy
	}
	f.add(unitEv)
	conf, err := syslogconf.ReadJournalUpload(ctx, h)
	if err != nil {
		r := checks.Errorf("cannot read the journal-upload configuration: %v", err)
		return f, &r
	}
	urlEv := checks.Evidence{Key: "journal-upload URL", Expected: "a remote URL", Actual: "not set", Path: "/etc/" + syslogconf.JournalUploadConf}
	target := ""
	if e, ok := conf.Get("Upload", "URL"); ok {
		urlEv.Path, urlEv.Line = e.Path, e.Line
		if e.Value != "" {
			urlEv.Actual = e.Value
			target = uploadHost(e.Value)
			urlEv.OK = !isLoopback(target)
			if !urlEv.OK {
				urlEv.Actual += ": a loopback target is not off-host"
			}
		}
	}
	f.add(urlEv)
	storageOK := true
	if st.Exists() || urlEv.OK {
		jd, err := syslogconf.ReadJournald(ctx, h)
		if err != nil {
			r := checks.Errorf("cannot read the journald configuration: %v", err)
			return f, &r
		}
		if e, ok := jd.Get("Journal", "Storage"); ok && e.Value == "none" {
			storageOK = false
			f.add(checks.Evidence{Key: "journald Storage", Expected: "not none", Actual: "none: journald keeps nothing to upload", Path: e.Path, Line: e.Line})
		}
	}
	switch {
	case !enabled:
		f.summary = "is " + st.String()
	case !urlEv.OK:
		f.summary = "has no usable URL= in [Upload]"
	case !storageOK:
		f.summary = "has nothing to upload (journald Storage=none)"
	default:
		f.ok, f.summary = true, urlEv.Actual+" ("+urlEv.Source()+")"
	}
	return f, nil
}

// uploadHost returns the host of a journal-upload URL, which may omit the
// scheme ("loghost:19532").
func uploadHost(raw string) string {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Hostname()
}

func isLoopback(host string) bool {
	host = strings.Trim(strings.ToLower(host), "[]")
	return host == "localhost" || strings.HasPrefix(host, "localhost.") || host == "ip6-localhost" ||
		host == "::1" || strings.HasPrefix(host, "127.")
}

func isNo(v string) bool {
	switch strings.ToLower(v) {
	case "no", "false", "off", "0", "n":
		return true
	}
	return false
}
