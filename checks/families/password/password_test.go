package password

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/checktest"
)

// now is the clock root_rotation measures against in these fixtures:
// 2025-01-15, day 20103.
const now = "2025-01-15T12:00:00Z"

// ev matches one evidence item: Key exactly, Actual by substring, Source
// ("path:line") exactly when set, and OK.
type ev struct {
	key, actual, source string
	ok                  bool
}

func (w ev) matches(e checks.Evidence) bool {
	return e.Key == w.key && strings.Contains(e.Actual, w.actual) &&
		(w.source == "" || e.Source() == w.source) && e.OK == w.ok
}

type testCase struct {
	check   string
	fixture string
	params  map[string]any
	want    checks.Status
	// evidence items that must be present.
	evidence []ev
	// message must contain this, when set.
	message string
}

var allChecks = []string{
	"password.pwquality_minlen", "password.pwquality_complexity", "password.pwquality_enforce_for_root",
	"password.pass_max_days", "password.pass_min_days", "password.pass_warn_age",
	"password.user_ages", "password.inactive", "password.faillock", "password.pwhistory",
	"password.hashing", "password.no_empty", "password.root_rotation",
}

func cases() []testCase {
	var tcs []testCase
	// The whole-host fixtures: every check on each.
	for _, fx := range []struct {
		fixture string
		want    map[string]checks.Status
	}{
		{"debian_pass", nil},
		{"rhel_pass", map[string]checks.Status{"password.root_rotation": checks.StatusNotApplicable}},
		{"debian_fail", map[string]checks.Status{}},
	} {
		for _, id := range allChecks {
			want := checks.StatusPass
			if fx.want != nil {
				if s, ok := fx.want[id]; ok {
					want = s
				} else if fx.fixture == "debian_fail" {
					want = checks.StatusFail
				}
			}
			var params map[string]any
			if id == "password.root_rotation" {
				params = map[string]any{"now": now}
			}
			tcs = append(tcs, testCase{check: id, fixture: fx.fixture, params: params, want: want})
		}
	}
	return append(tcs, []testCase{
		// Evidence on the whole-host fixtures.
		{check: "password.pwquality_minlen", fixture: "debian_pass", want: checks.StatusPass, evidence: []ev{
			{"pam_pwquality in /etc/pam.d/common-password", "pam_pwquality.so retry=3", "/etc/pam.d/common-password:5", true},
			{"minlen", "14", "/etc/security/pwquality.conf.d/50-cis.conf:2", true},
			{"enforcing", "1 (built-in default", "", true},
		}},
		{check: "password.pwquality_minlen", fixture: "debian_pass", params: map[string]any{"min_length": 16}, want: checks.StatusFail,
			evidence: []ev{{"minlen", "14", "/etc/security/pwquality.conf.d/50-cis.conf:2", false}}},
		{check: "password.pwquality_minlen", fixture: "debian_fail", want: checks.StatusFail, evidence: []ev{
			// Configured but not used by PAM; pam_cracklib does not count.
			{"pam_pwquality in /etc/pam.d/common-password", "pam_cracklib is used instead, which is not accepted", "/etc/pam.d/common-password:2", false},
			{"minlen", "14", "/etc/security/pwquality.conf:2", true},
		}},
		{check: "password.pwquality_minlen", fixture: "rhel_pass", want: checks.StatusPass, evidence: []ev{
			// system-auth is a symlink into /etc/authselect.
			{"pam_pwquality in /etc/pam.d/system-auth", "pam_pwquality.so local_users_only", "/etc/pam.d/system-auth:13", true},
			{"pam_pwquality in /etc/pam.d/password-auth", "pam_pwquality.so", "/etc/pam.d/password-auth:13", true},
		}},
		{check: "password.pwquality_complexity", fixture: "rhel_pass", want: checks.StatusPass, evidence: []ev{
			{"minclass", "0 (built-in default", "", true},
			{"dcredit", "-1", "/etc/security/pwquality.conf:3", true},
		}},
		{check: "password.pwquality_complexity", fixture: "debian_fail", want: checks.StatusFail, evidence: []ev{
			{"minclass", "2", "/etc/security/pwquality.conf:3", false},
			{"ocredit", "0 (built-in default", "", false},
		}},
		{check: "password.pass_max_days", fixture: "debian_fail", want: checks.StatusFail,
			evidence: []ev{{"PASS_MAX_DAYS", "99999", "/etc/login.defs:1", false}}},
		{check: "password.pass_max_days", fixture: "debian_pass", params: map[string]any{"max_days": 90}, want: checks.StatusFail},
		{check: "password.pass_warn_age", fixture: "debian_fail", params: map[string]any{"warn_age": 3}, want: checks.StatusPass},
		{check: "password.user_ages", fixture: "debian_fail", want: checks.StatusFail, message: "root, alice", evidence: []ev{
			{"user alice", "max 99999, min 0, warn 7", "/etc/shadow:3", false},
		}},
		{check: "password.user_ages", fixture: "debian_pass", want: checks.StatusPass, evidence: []ev{
			{"user alice", "max 90, min 1, warn 14", "/etc/shadow:4", true},
		}},
		{check: "password.inactive", fixture: "debian_fail", want: checks.StatusFail, evidence: []ev{
			{"INACTIVE", "-1", "/etc/default/useradd:2", false},
			{"user alice inactive", "not set", "/etc/shadow:3", false},
		}},
		{check: "password.inactive", fixture: "debian_pass", params: map[string]any{"inactive_days": 30}, want: checks.StatusFail,
			evidence: []ev{{"INACTIVE", "45", "/etc/default/useradd:4", false}, {"user alice inactive", "30", "/etc/shadow:4", true}}},
		{check: "password.faillock", fixture: "debian_pass", want: checks.StatusPass, evidence: []ev{
			{"pam_faillock preauth in /etc/pam.d/common-auth", "pam_faillock.so preauth", "/etc/pam.d/common-auth:4", true},
			{"pam_faillock authfail in /etc/pam.d/common-auth", "pam_faillock.so authfail", "/etc/pam.d/common-auth:6", true},
			{"deny", "5", "/etc/security/faillock.conf:4", true},
			{"unlock_time", "900", "/etc/security/faillock.conf:8", true},
		}},
		{check: "password.faillock", fixture: "debian_fail", want: checks.StatusFail, evidence: []ev{
			{"pam_faillock preauth in /etc/pam.d/common-auth", "absent", "/etc/pam.d/common-auth", false},
			{"unlock_time", "600 (built-in default; /etc/security/faillock.conf does not exist)", "", false},
		}},
		{check: "password.faillock", fixture: "rhel_pass", want: checks.StatusPass,
			evidence: []ev{{"unlock_time", "0", "/etc/security/faillock.conf:2", true}}},
		{check: "password.faillock", fixture: "rhel_pass", params: map[string]any{"max_deny": 2}, want: checks.StatusFail},
		{check: "password.pwhistory", fixture: "rhel_pass", want: checks.StatusPass,
			evidence: []ev{{"remember", "24", "/etc/security/pwhistory.conf:2", true}}},
		{check: "password.pwhistory", fixture: "debian_pass", want: checks.StatusPass,
			evidence: []ev{{"remember", "24", "/etc/pam.d/common-password:6", true}}},
		{check: "password.hashing", fixture: "debian_fail", want: checks.StatusFail, evidence: []ev{
			{"ENCRYPT_METHOD", "sha512 (shadow-utils compares exactly", "/etc/login.defs:4", false},
			{"pam_unix hash in /etc/pam.d/common-password", "sha256", "/etc/pam.d/common-password:3", false},
		}},
		{check: "password.no_empty", fixture: "debian_fail", want: checks.StatusFail, message: "bob", evidence: []ev{
			{"user bob", "empty password field", "/etc/shadow:4", false},
			{"pam_unix nullok in /etc/pam.d/common-auth", "pam_unix.so nullok", "/etc/pam.d/common-auth:1", false},
		}},
		{check: "password.root_rotation", fixture: "debian_fail", params: map[string]any{"now": now}, want: checks.StatusFail,
			message: "initial password has not been changed", evidence: []ev{{"root lastchg", "0 (must change at next login)", "/etc/shadow:1", false}}},
		{check: "password.root_rotation", fixture: "debian_pass", params: map[string]any{"now": now}, want: checks.StatusPass,
			evidence: []ev{{"root lastchg", "2025-01-12 (day 20100), 3 days ago", "/etc/shadow:1", true}}},
		{check: "password.root_rotation", fixture: "rhel_pass", params: map[string]any{"now": now}, want: checks.StatusNotApplicable,
			message: "no usable password"},

		// libpwquality reads pwquality.conf.d first and the main file last.
		{check: "password.pwquality_minlen", fixture: "pwq_main_wins", want: checks.StatusFail,
			evidence: []ev{{"minlen", "8", "/etc/security/pwquality.conf:2", false}}},
		{check: "password.pwquality_minlen", fixture: "pwq_confd_order", want: checks.StatusPass,
			evidence: []ev{{"minlen", "15", "/etc/security/pwquality.conf.d/90-site.conf:1", true}}},
		{check: "password.pwquality_complexity", fixture: "pwq_confd_order", want: checks.StatusPass},
		// Arguments on the pam_pwquality line override the files.
		{check: "password.pwquality_minlen", fixture: "pwq_args_override", want: checks.StatusFail,
			evidence: []ev{{"minlen", "10", "/etc/pam.d/common-password:1", false}}},
		{check: "password.pwquality_complexity", fixture: "pwq_args_override", want: checks.StatusPass,
			evidence: []ev{{"minclass", "4", "/etc/pam.d/common-password:1", true}}},
		{check: "password.pwquality_enforce_for_root", fixture: "pwq_args_override", want: checks.StatusPass},
		// enforcing = 0 only warns.
		{check: "password.pwquality_minlen", fixture: "pwq_not_enforcing", want: checks.StatusFail,
			evidence: []ev{{"enforcing", "0", "/etc/security/pwquality.conf:4", false}, {"minlen", "14", "", true}}},
		{check: "password.pwquality_complexity", fixture: "pwq_not_enforcing", want: checks.StatusFail},
		{check: "password.pwquality_enforce_for_root", fixture: "pwq_not_enforcing", want: checks.StatusFail},
		// libpwquality stops at an unknown setting; a bad argument value.
		{check: "password.pwquality_minlen", fixture: "pwq_unknown_key", want: checks.StatusError,
			message: "/etc/security/pwquality.conf.d/50-cis.conf:2: unknown setting \"minlenght\""},
		{check: "password.pwquality_complexity", fixture: "pwq_unknown_key", want: checks.StatusError},
		{check: "password.pwquality_minlen", fixture: "pwq_bad_arg", want: checks.StatusError,
			message: "/etc/pam.d/common-password:1: pam_pwquality argument \"minlen=fourteen\""},

		// RHEL: every stack must have the modules.
		{check: "password.pwquality_minlen", fixture: "rhel_partial", want: checks.StatusFail, evidence: []ev{
			{"pam_pwquality in /etc/pam.d/system-auth", "pam_pwquality.so", "/etc/pam.d/system-auth:4", true},
			{"pam_pwquality in /etc/pam.d/password-auth", "absent", "/etc/pam.d/password-auth", false},
		}},
		{check: "password.pwhistory", fixture: "rhel_partial", want: checks.StatusFail,
			evidence: []ev{{"pam_pwhistory in /etc/pam.d/password-auth", "absent", "", false}}},
		{check: "password.faillock", fixture: "rhel_partial", want: checks.StatusFail,
			evidence: []ev{{"pam_faillock authfail in /etc/pam.d/password-auth", "absent", "", false}}},

		// PAM include chains, loops, syntax errors, and no PAM at all.
		{check: "password.pwquality_minlen", fixture: "pam_include_chain", want: checks.StatusPass, evidence: []ev{
			{"pam_pwquality in /etc/pam.d/common-password", "pam_pwquality.so retry=3 minlen=16", "/etc/pam.d/pwquality-stack:2", true},
			{"minlen", "16", "/etc/pam.d/pwquality-stack:2", true},
		}},
		{check: "password.faillock", fixture: "pam_include_loop", want: checks.StatusError, message: "include loop"},
		{check: "password.no_empty", fixture: "pam_include_loop", want: checks.StatusError, message: "/etc/pam.d/common-auth:2"},
		{check: "password.faillock", fixture: "pam_missing_include", want: checks.StatusError,
			message: "/etc/pam.d/common-auth:2: @include common-auth-local: no such file"},
		{check: "password.pwquality_minlen", fixture: "pam_malformed", want: checks.StatusError,
			message: "/etc/pam.d/common-password:2: unknown control \"requird\""},
		{check: "password.hashing", fixture: "pam_malformed", want: checks.StatusError},
		{check: "password.pwhistory", fixture: "pam_malformed", want: checks.StatusError},
		{check: "password.pwquality_minlen", fixture: "no_pam", want: checks.StatusFail, message: "no PAM password stack", evidence: []ev{
			{"PAM password stack", "none of /etc/pam.d/common-password, /etc/pam.d/system-auth, /etc/pam.d/password-auth exists", "/etc/pam.d", false},
			{"minlen", "14", "/etc/security/pwquality.conf:1", true},
		}},
		{check: "password.pwquality_complexity", fixture: "no_pam", want: checks.StatusFail},
		{check: "password.pwquality_enforce_for_root", fixture: "no_pam", want: checks.StatusFail},
		{check: "password.faillock", fixture: "no_pam", want: checks.StatusFail,
			evidence: []ev{{"deny", "5", "/etc/security/faillock.conf:1", true}}},
		{check: "password.pwhistory", fixture: "no_pam", want: checks.StatusFail},
		{check: "password.hashing", fixture: "no_pam", want: checks.StatusPass},
		{check: "password.no_empty", fixture: "no_pam", want: checks.StatusPass},

		// login.defs: last duplicate wins, comments, unreadable values.
		{check: "password.pass_max_days", fixture: "logindefs_dup", want: checks.StatusFail,
			evidence: []ev{{"PASS_MAX_DAYS", "99999", "/etc/login.defs:5", false}}},
		{check: "password.pass_min_days", fixture: "logindefs_dup", want: checks.StatusPass,
			evidence: []ev{{"PASS_MIN_DAYS", "7", "/etc/login.defs:6", true}}},
		{check: "password.pass_warn_age", fixture: "logindefs_dup", want: checks.StatusFail,
			evidence: []ev{{"PASS_WARN_AGE", "not set (shadow-utils default -1", "/etc/login.defs", false}}},
		{check: "password.pass_max_days", fixture: "logindefs_dup_pass", want: checks.StatusPass,
			evidence: []ev{{"PASS_MAX_DAYS", "60", "/etc/login.defs:2", true}}},
		{check: "password.pass_max_days", fixture: "logindefs_comment", want: checks.StatusFail,
			evidence: []ev{{"PASS_MAX_DAYS", "\"60 # CIS 5.4.1.1\" is unreadable (not a number), so shadow-utils ignores it", "/etc/login.defs:1", false}}},
		{check: "password.pass_min_days", fixture: "logindefs_comment", want: checks.StatusPass,
			evidence: []ev{{"PASS_MIN_DAYS", "0x7 (= 7)", "/etc/login.defs:2", true}}},
		{check: "password.pass_warn_age", fixture: "logindefs_comment", want: checks.StatusPass,
			evidence: []ev{{"PASS_WARN_AGE", "010 (= 8)", "/etc/login.defs:3", true}}},
		{check: "password.pass_max_days", fixture: "missing_logindefs", want: checks.StatusFail, message: "/etc/login.defs does not exist"},
		{check: "password.pass_min_days", fixture: "missing_logindefs", want: checks.StatusFail},
		{check: "password.pass_warn_age", fixture: "missing_logindefs", want: checks.StatusFail},
		{check: "password.hashing", fixture: "missing_logindefs", want: checks.StatusFail, evidence: []ev{
			{"ENCRYPT_METHOD", "missing (shadow-utils falls back to DES)", "/etc/login.defs", false},
			{"pam_unix hash in /etc/pam.d/common-password", "none: uses ENCRYPT_METHOD", "/etc/pam.d/common-password:1", false},
		}},
		{check: "password.inactive", fixture: "missing_logindefs", want: checks.StatusFail,
			evidence: []ev{{"INACTIVE", "/etc/default/useradd missing", "/etc/default/useradd", false}}},

		// /etc/shadow edge cases.
		{check: "password.user_ages", fixture: "shadow_malformed", want: checks.StatusError,
			message: "/etc/shadow:2: user alice: max \"ninety\" is not a number"},
		{check: "password.inactive", fixture: "shadow_malformed", want: checks.StatusError},
		{check: "password.no_empty", fixture: "shadow_malformed", want: checks.StatusError},
		{check: "password.root_rotation", fixture: "shadow_malformed", params: map[string]any{"now": now}, want: checks.StatusError},
		{check: "password.user_ages", fixture: "no_pam", want: checks.StatusPass},
		{check: "password.user_ages", fixture: "pwq_main_wins", want: checks.StatusError, message: "/etc/shadow"},
		{check: "password.user_ages", fixture: "no_password_users", want: checks.StatusPass, message: "no account",
			evidence: []ev{{"accounts with a password", "none", "/etc/shadow", true}}},
		{check: "password.inactive", fixture: "no_password_users", want: checks.StatusPass},
		{check: "password.root_rotation", fixture: "no_password_users", params: map[string]any{"now": now}, want: checks.StatusNotApplicable},
		{check: "password.root_rotation", fixture: "root_old", params: map[string]any{"now": now}, want: checks.StatusFail,
			evidence: []ev{{"root lastchg", "2024-10-04 (day 20000), 103 days ago", "/etc/shadow:1", false}}},
		{check: "password.root_rotation", fixture: "root_old", params: map[string]any{"now": now, "max_age_days": 120}, want: checks.StatusPass},
		{check: "password.root_rotation", fixture: "root_future", params: map[string]any{"now": now}, want: checks.StatusFail, message: "in the future"},
		{check: "password.root_rotation", fixture: "root_unset", params: map[string]any{"now": now}, want: checks.StatusFail, message: "not recorded"},
		{check: "password.root_rotation", fixture: "root_empty", params: map[string]any{"now": now}, want: checks.StatusFail, message: "empty"},
		{check: "password.root_rotation", fixture: "root_absent", params: map[string]any{"now": now}, want: checks.StatusError, message: "no entry for root"},

		// pam_faillock and pam_pwhistory options.
		{check: "password.faillock", fixture: "faillock_override", want: checks.StatusFail, evidence: []ev{
			{"deny", "5", "/etc/security/faillock.conf:1", true},
			{"deny", "10", "/etc/pam.d/common-auth:3", false},
		}},
		{check: "password.faillock", fixture: "faillock_no_authfail", want: checks.StatusFail, evidence: []ev{
			{"pam_faillock authfail in /etc/pam.d/common-auth", "absent", "", false},
			{"deny", "3 (built-in default", "", true},
		}},
		{check: "password.faillock", fixture: "faillock_bad_conf", want: checks.StatusError,
			message: "conf=/etc/security/faillock-site.conf does not exist"},
		{check: "password.pwhistory", fixture: "pwhistory_default", want: checks.StatusFail,
			evidence: []ev{{"remember", "10 (built-in default", "/etc/security/pwhistory.conf", false}}},
		{check: "password.pwhistory", fixture: "pwhistory_default", params: map[string]any{"remember": 10}, want: checks.StatusPass},
	}...)
}

func TestChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range cases() {
		name := fmt.Sprintf("%s/%s/%v", tc.check, tc.fixture, tc.params)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, ok := checks.Lookup(tc.check)
			if !ok {
				t.Fatalf("check %s not registered", tc.check)
			}
			r := checktest.Expect(t, c, filepath.Join("testdata", tc.fixture), tc.params, tc.want)
			if tc.message != "" && !strings.Contains(r.Message, tc.message) {
				t.Errorf("message %q does not contain %q", r.Message, tc.message)
			}
			for _, w := range tc.evidence {
				found := false
				for _, e := range r.Evidence {
					if w.matches(e) {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("no evidence %+v in\n%s", w, formatEvidence(r.Evidence))
				}
			}
			assertEvidence(t, r)
		})
	}
}

// assertEvidence holds every result to the family's promises: a FAIL shows
// at least one failing item, a PASS none, and every item names a source.
func assertEvidence(t *testing.T, r checks.Result) {
	t.Helper()
	failing := 0
	for _, e := range r.Evidence {
		if !e.OK {
			failing++
		}
		if e.Key == "" || e.Path == "" {
			t.Errorf("evidence without key or path: %+v", e)
		}
	}
	switch r.Status {
	case checks.StatusFail:
		if failing == 0 {
			t.Errorf("FAIL without a failing evidence item:\n%s", formatEvidence(r.Evidence))
		}
	case checks.StatusPass:
		if failing > 0 || len(r.Evidence) == 0 {
			t.Errorf("PASS with %d failing of %d evidence items:\n%s", failing, len(r.Evidence), formatEvidence(r.Evidence))
		}
	case checks.StatusError:
		if r.Message == "" {
			t.Error("ERROR without a message")
		}
	}
}

func formatEvidence(es []checks.Evidence) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "  %s | expected %q | actual %q | ok=%v | %s\n", e.Key, e.Expected, e.Actual, e.OK, e.Source())
	}
	return b.String()
}

// TestCoverage makes sure every check in the family has at least one
// passing and one failing fixture.
func TestCoverage(t *testing.T) {
	t.Parallel()
	seen := map[string]map[checks.Status]bool{}
	for _, tc := range cases() {
		if seen[tc.check] == nil {
			seen[tc.check] = map[checks.Status]bool{}
		}
		seen[tc.check][tc.want] = true
	}
	var registered []string
	for _, c := range checks.All() {
		if c.Meta().Family == "password" {
			registered = append(registered, c.Meta().ID)
		}
	}
	if strings.Join(registered, " ") != strings.Join(slices.Sorted(slices.Values(allChecks)), " ") {
		t.Errorf("registered %v, tests know %v", registered, allChecks)
	}
	for _, id := range registered {
		if !seen[id][checks.StatusPass] || !seen[id][checks.StatusFail] {
			t.Errorf("%s lacks a PASS or FAIL case", id)
		}
	}
}

func TestRootRotationValidateParams(t *testing.T) {
	t.Parallel()
	c, _ := checks.Lookup("password.root_rotation")
	v, ok := c.(checks.ParamValidator)
	if !ok {
		t.Fatal("root_rotation does not validate its parameters")
	}
	for now, wantErr := range map[string]bool{"": false, "2025-01-15T00:00:00Z": false, "2025-01-15": true, "yesterday": true} {
		p, err := checks.Resolve(c.Meta().Params, map[string]any{"now": now})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.ValidateParams(p); (err != nil) != wantErr {
			t.Errorf("now=%q: err = %v, want error %v", now, err, wantErr)
		}
	}
}
