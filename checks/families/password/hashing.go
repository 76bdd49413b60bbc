package password

import (
	"context"
	"errors"
	"io/fs"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/logindefs"
	"github.com/plumbline/plumbline/checks/parse/pam"
)

func init() {
	checks.Register(check{meta: hashingMeta(), run: runHashing})
}

func hashingMeta() checks.Meta {
	return checks.Meta{
		ID:       "password.hashing",
		Title:    "Passwords are hashed with yescrypt or SHA-512",
		Family:   "password",
		Severity: checks.SeverityHigh,
		Rationale: "A stolen /etc/shadow is cracked offline; MD5, DES, bigcrypt and SHA-256 crypt hashes fall far faster " +
			"than yescrypt or SHA-512 crypt. login.defs ENCRYPT_METHOD is used by chpasswd, newusers and (when it has no " +
			"method of its own) pam_unix; a hash argument on pam_unix's password line overrides it for passwd.",
		Remediation: "In /etc/login.defs set\n  ENCRYPT_METHOD YESCRYPT\n(or SHA512; upper case, as shadow-utils compares " +
			"it exactly). On the pam_unix password line use yescrypt or sha512 (or no method, to follow login.defs): on " +
			"Debian and Ubuntu in /usr/share/pam-configs/unix followed by pam-auth-update, on RHEL through the authselect " +
			"profile. Existing hashes change only when each password is next changed.",
		References: append(checks.CIS(
			"debian:12", "5.4.1.4", "debian:12", "5.3.3.4.3",
			"ubuntu:22.04", "5.4.1.4", "ubuntu:22.04", "5.3.3.4.3",
			"ubuntu:24.04", "5.4.1.4", "ubuntu:24.04", "5.3.3.4.3",
			"rhel:9", "5.4.1.4", "rhel:9", "5.3.3.4.3",
			"alinux:3", "5.5.4",
		), measure),
	}
}

// strongMethods are the ENCRYPT_METHOD values CIS accepts, exactly as
// shadow-utils spells them.
var strongMethods = map[string]bool{"YESCRYPT": true, "SHA512": true}

// pamUnixHashes are pam_unix's hash-selecting arguments and whether CIS
// accepts each; the last one on a line wins.
var pamUnixHashes = map[string]bool{
	"yescrypt": true, "sha512": true,
	"gost_yescrypt": false, "blowfish": false, "sha256": false, "bigcrypt": false, "md5": false,
}

func runHashing(ctx context.Context, h checks.Host, _ checks.Params) checks.Result {
	var ev evidenceList
	defsOK := false
	f, err := logindefs.LoadLoginDefs(ctx, h)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ev.add(checks.Evidence{Key: "ENCRYPT_METHOD", Expected: "YESCRYPT or SHA512",
			Actual: logindefs.LoginDefsPath + " missing (shadow-utils falls back to DES)", Path: logindefs.LoginDefsPath})
	case err != nil:
		return checks.Errorf("%v", err)
	default:
		e := checks.Evidence{Key: "ENCRYPT_METHOD", Expected: "YESCRYPT or SHA512", Path: f.Path}
		if s, ok := f.Get("ENCRYPT_METHOD"); ok {
			e.Line, e.Actual = s.Line, s.Value
			defsOK = strongMethods[s.Value]
			if !defsOK && strongMethods[strings.ToUpper(s.Value)] {
				e.Actual += " (shadow-utils compares exactly: it does not recognise this spelling and falls back to DES)"
			}
		} else {
			fallback := "DES"
			if s, ok := f.Get("MD5_CRYPT_ENAB"); ok && strings.EqualFold(s.Value, "yes") {
				fallback = "MD5"
			}
			e.Actual = "not set (shadow-utils falls back to " + fallback + ")"
		}
		e.OK = defsOK
		ev.add(e)
	}

	// A weak pam_unix method is something the stack must not have, so a
	// host without a password stack has nothing to fix there.
	stacks, err := loadStacks(ctx, h, pam.TypePassword)
	switch {
	case errors.Is(err, errNoStack):
		e := noStackEvidence(pam.TypePassword)
		e.Expected, e.OK = "no weak pam_unix hash", true
		ev.add(e)
	case err != nil:
		return stackError(pam.TypePassword, err)
	}
	for _, st := range stacks {
		for _, r := range st.module("pam_unix") {
			method := ""
			for _, a := range r.Args {
				if _, known := pamUnixHashes[a.Name]; known && !a.HasValue {
					method = a.Name
				}
			}
			e := checks.Evidence{Key: "pam_unix hash in " + st.name(), Expected: "yescrypt or sha512 (or none, to follow ENCRYPT_METHOD)",
				Path: r.Pos.File, Line: r.Pos.Line}
			if method == "" {
				e.Actual = "none: uses ENCRYPT_METHOD from login.defs (" + r.String() + ")"
				e.OK = defsOK
			} else {
				e.Actual = method + " (" + r.String() + ")"
				e.OK = pamUnixHashes[method]
			}
			ev.add(e)
		}
	}
	return checks.Judge("passwords are hashed with yescrypt or SHA-512",
		"a weaker password hashing method is configured", ev...)
}
