// Package faillock reads pam_faillock's options as the module computes them
// for one PAM line: built-in defaults, then /etc/security/faillock.conf (or
// the file named by the line's conf= argument), then the line's own
// arguments.
package faillock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/pam"
)

// ConfPath is the configuration file pam_faillock reads by default.
const ConfPath = "/etc/security/faillock.conf"

// pam_faillock's built-in defaults (modules/pam_faillock/faillock_config.h).
const (
	DefaultDeny         = 3
	DefaultFailInterval = 900
	DefaultUnlockTime   = 600
)

// maxTimeInterval is the largest interval pam_faillock accepts
// (MAX_TIME_INTERVAL, one week); it rejects a larger value.
const maxTimeInterval = 604800

// The actions a pam_faillock line performs, chosen by a bare argument.
const (
	ActionPreauth  = "preauth"
	ActionAuthfail = "authfail"
	ActionAuthsucc = "authsucc"
)

// Int is an integer option, with where it was set (Path empty for the
// built-in default).
type Int struct {
	Value int    `json:"value"`
	Raw   string `json:"raw,omitempty"`
	Path  string `json:"path,omitempty"`
	Line  int    `json:"line,omitempty"`
}

// Flag is an on/off option, with where it was switched on.
type Flag struct {
	On   bool   `json:"on"`
	Path string `json:"path,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Options are the effective settings of one pam_faillock line.
type Options struct {
	// Action is preauth, authfail, authsucc, or empty when the line has
	// none (an account-type line, for example).
	Action string `json:"action,omitempty"`
	// ConfPath is the configuration file the line reads.
	ConfPath string `json:"conf_path"`
	// ConfMissing is set when that file does not exist (pam_faillock then
	// uses its defaults).
	ConfMissing    bool `json:"conf_missing,omitempty"`
	Deny           Int  `json:"deny"`
	FailInterval   Int  `json:"fail_interval"`
	UnlockTime     Int  `json:"unlock_time"`
	RootUnlockTime Int  `json:"root_unlock_time"`
	EvenDenyRoot   Flag `json:"even_deny_root"`
	Silent         Flag `json:"silent"`
	// rootUnlockSet records whether root_unlock_time was given; if not it
	// follows unlock_time.
	rootUnlockSet bool
}

func defaults(conf string) Options {
	return Options{
		ConfPath:     conf,
		Deny:         Int{Value: DefaultDeny},
		FailInterval: Int{Value: DefaultFailInterval},
		UnlockTime:   Int{Value: DefaultUnlockTime},
	}
}

// Config is a parsed faillock.conf.
type Config struct {
	Path     string
	Settings []pam.ModuleSetting
}

// Parse parses faillock.conf content, rejecting a value pam_faillock could
// not read (it would log the error and silently keep the previous value).
// Unknown option names are kept and ignored, as pam_faillock ignores them.
func Parse(path string, data []byte) (*Config, error) {
	settings, err := pam.ParseModuleConfig(path, data)
	if err != nil {
		return nil, err
	}
	scratch := defaults(path)
	for _, s := range settings {
		if err := scratch.apply(s.Name, s.Value, s.Pos); err != nil {
			return nil, err
		}
	}
	return &Config{Path: path, Settings: settings}, nil
}

// Load reads a faillock configuration file once per scan. A missing file is
// returned as an error matching fs.ErrNotExist.
func Load(ctx context.Context, h checks.Host, path string) (*Config, error) {
	return checks.Memoized(h, "parse/faillock:"+path, func() (*Config, error) {
		data, err := h.ReadFile(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return Parse(path, data)
	})
}

// ForRule returns the options pam_faillock uses for the rule. A missing
// default configuration file means the built-in defaults; a missing file
// named by conf= is an error, because pam_faillock then fails.
func ForRule(ctx context.Context, h checks.Host, r pam.Rule) (Options, error) {
	conf, custom := ConfPath, false
	for _, a := range r.Args {
		if a.Name == "conf" && a.HasValue {
			conf, custom = a.Value, true
		}
	}
	o := defaults(conf)
	c, err := Load(ctx, h, conf)
	switch {
	case err == nil:
		for _, s := range c.Settings {
			if err := o.apply(s.Name, s.Value, s.Pos); err != nil {
				return Options{}, err
			}
		}
	case errors.Is(err, fs.ErrNotExist) && !custom:
		o.ConfMissing = true
	case errors.Is(err, fs.ErrNotExist):
		return Options{}, fmt.Errorf("%s: conf=%s does not exist; pam_faillock fails on this line", r.Pos, conf)
	default:
		return Options{}, err
	}
	for _, a := range r.Args {
		switch a.String() {
		case ActionPreauth, ActionAuthfail, ActionAuthsucc:
			o.Action = a.Name
			continue
		}
		if a.Name == "conf" {
			continue
		}
		if err := o.apply(a.Name, a.Value, r.Pos); err != nil {
			return Options{}, fmt.Errorf("pam_faillock argument: %w", err)
		}
	}
	if !o.rootUnlockSet {
		o.RootUnlockTime = o.UnlockTime
	}
	return o, nil
}

// apply sets one option as pam_faillock's set_conf_opt does.
func (o *Options) apply(name, value string, pos pam.Position) error {
	num := func(limit uint64, never bool) (Int, error) {
		if never && value == "never" {
			return Int{Value: 0, Raw: value, Path: pos.File, Line: pos.Line}, nil
		}
		n, err := strconv.ParseUint(value, 10, 64)
		if err != nil || n > limit {
			return Int{}, fmt.Errorf("%s: %s %q is not a number pam_faillock accepts", pos, name, value)
		}
		return Int{Value: int(n), Raw: value, Path: pos.File, Line: pos.Line}, nil
	}
	var err error
	switch name {
	case "deny":
		o.Deny, err = num(1<<16-1, false)
	case "fail_interval":
		o.FailInterval, err = num(maxTimeInterval, false)
	case "unlock_time":
		o.UnlockTime, err = num(maxTimeInterval, true)
	case "root_unlock_time":
		o.RootUnlockTime, err = num(maxTimeInterval, true)
		o.rootUnlockSet = true
	case "even_deny_root":
		o.EvenDenyRoot = Flag{On: true, Path: pos.File, Line: pos.Line}
	case "silent":
		o.Silent = Flag{On: true, Path: pos.File, Line: pos.Line}
	}
	return err
}
