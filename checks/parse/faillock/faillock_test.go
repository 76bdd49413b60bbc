package faillock

import (
	"context"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks/checktest"
	"github.com/plumbline/plumbline/checks/parse/pam"
)

func rule(t *testing.T, line string) pam.Rule {
	t.Helper()
	rules, err := pam.Parse("/etc/pam.d/common-auth", []byte(line+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	return rules[0]
}

func TestForRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, root, line string
		want             Options
	}{
		{
			name: "defaults without a config file",
			root: "testdata/none",
			line: "auth requisite pam_faillock.so preauth",
			want: Options{
				Action: ActionPreauth, ConfPath: ConfPath, ConfMissing: true,
				Deny: Int{Value: 3}, FailInterval: Int{Value: 900},
				UnlockTime: Int{Value: 600}, RootUnlockTime: Int{Value: 600},
			},
		},
		{
			name: "config file, last duplicate wins",
			root: "testdata/conf",
			line: "auth [default=die] pam_faillock.so authfail",
			want: Options{
				Action: ActionAuthfail, ConfPath: ConfPath,
				Deny:           Int{Value: 5, Raw: "5", Path: ConfPath, Line: 10},
				FailInterval:   Int{Value: 900, Raw: "900", Path: ConfPath, Line: 6},
				UnlockTime:     Int{Value: 1200, Raw: "1200", Path: ConfPath, Line: 7},
				RootUnlockTime: Int{Value: 1200, Raw: "1200", Path: ConfPath, Line: 7},
				EvenDenyRoot:   Flag{On: true, Path: ConfPath, Line: 8},
			},
		},
		{
			name: "arguments override the config file",
			root: "testdata/conf",
			line: "auth required pam_faillock.so preauth silent deny=10 unlock_time=never root_unlock_time=60",
			want: Options{
				Action: ActionPreauth, ConfPath: ConfPath,
				Deny:           Int{Value: 10, Raw: "10", Path: "/etc/pam.d/common-auth", Line: 1},
				FailInterval:   Int{Value: 900, Raw: "900", Path: ConfPath, Line: 6},
				UnlockTime:     Int{Value: 0, Raw: "never", Path: "/etc/pam.d/common-auth", Line: 1},
				RootUnlockTime: Int{Value: 60, Raw: "60", Path: "/etc/pam.d/common-auth", Line: 1},
				EvenDenyRoot:   Flag{On: true, Path: ConfPath, Line: 8},
				Silent:         Flag{On: true, Path: "/etc/pam.d/common-auth", Line: 1},
				rootUnlockSet:  true,
			},
		},
		{
			name: "conf= selects another file",
			root: "testdata/conf",
			line: "auth required pam_faillock.so authfail conf=/etc/security/faillock-strict.conf",
			want: Options{
				Action: ActionAuthfail, ConfPath: "/etc/security/faillock-strict.conf",
				Deny:           Int{Value: 2, Raw: "2", Path: "/etc/security/faillock-strict.conf", Line: 1},
				FailInterval:   Int{Value: 900},
				UnlockTime:     Int{Value: 0, Raw: "never", Path: "/etc/security/faillock-strict.conf", Line: 2},
				RootUnlockTime: Int{Value: 0, Raw: "never", Path: "/etc/security/faillock-strict.conf", Line: 2},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ForRule(context.Background(), checktest.Host(t, tt.root), rule(t, tt.line))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestForRuleErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ root, line, want string }{
		{"testdata/bad", "auth required pam_faillock.so preauth", "/etc/security/faillock.conf:1: deny \"many\" is not a number"},
		{"testdata/none", "auth required pam_faillock.so preauth deny=-1", "/etc/pam.d/common-auth:1: deny \"-1\" is not a number"},
		{"testdata/none", "auth required pam_faillock.so preauth unlock_time=604801", "unlock_time \"604801\" is not a number"},
		{"testdata/none", "auth required pam_faillock.so preauth conf=/etc/security/nope.conf", "/etc/pam.d/common-auth:1: conf=/etc/security/nope.conf does not exist"},
	}
	for _, tt := range tests {
		_, err := ForRule(context.Background(), checktest.Host(t, tt.root), rule(t, tt.line))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.line, err, tt.want)
		}
	}
}

func TestParseKeepsUnknownOptions(t *testing.T) {
	t.Parallel()
	c, err := Parse(ConfPath, []byte("deny = 4\nnot_an_option\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Settings) != 2 || c.Settings[1].Name != "not_an_option" {
		t.Errorf("settings = %+v", c.Settings)
	}
}
