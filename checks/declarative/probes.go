package declarative

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/osrelease"
	"github.com/plumbline/plumbline/checks/parse/pam"
	"github.com/plumbline/plumbline/checks/parse/shadow"
	"github.com/plumbline/plumbline/checks/pkgdb"
	"github.com/plumbline/plumbline/checks/systemd"
)

// obs is one observation: what a probe saw of one thing.
type obs struct {
	// subject names the thing in evidence: "/etc/passwd", "user bob".
	subject string
	path    string
	line    int
	fields  map[string]value
	// missing explains fields the observation lacks ("does not exist").
	missing string
	// why explains single missing fields, where the observation itself
	// exists ("home /home/bob does not exist" for home_mode).
	why map[string]string
	// gone: the observed thing itself does not exist (a file, a package),
	// which is what an assertion's "absent" key decides about.
	gone bool
}

// observation is a probe's output: the observations, and notes (evidence
// that informs without deciding, such as a running value that cannot be
// seen on an image).
type observation struct {
	obs   []obs
	notes []checks.Evidence
	// absent explains zero observations ("PASS_MAX_DAYS is not set in /etc/login.defs").
	absent string
}

// probe reads one kind of thing from the host.
type probe interface {
	observe(ctx context.Context, h checks.Host) (observation, error)
}

// probeSpec declares a probe's argument, options and fields; the loader
// validates assertions against it.
type probeSpec struct {
	// arg: the probe key's value is a required non-empty string; otherwise
	// it must be empty (users:, groups:).
	arg bool
	// options maps option names to their kind (kString, kBool).
	options  map[string]kind
	required []string
	fields   map[string]kind
	// dynamic accepts field names beyond fields (regex groups, PAM args).
	dynamic func(field string) (kind, bool)
	// absentPass: zero observations pass by default (glob).
	absentPass bool
	build      func(arg string, opt options) (probe, error)
}

// options are an assertion's probe options as validated strings.
type options map[string]string

func (o options) str(name, def string) string {
	if v, ok := o[name]; ok {
		return v
	}
	return def
}

func (o options) bool(name string, def bool) bool {
	if v, ok := o[name]; ok {
		b, _ := parseBool(v)
		return b
	}
	return def
}

var homeFileFields = func() map[string]kind {
	f := maps.Clone(fileFields)
	for k, v := range map[string]kind{"user": kString, "user_uid": kInt, "user_gid": kInt} {
		f[k] = v
	}
	return f
}()

var fileFields = map[string]kind{
	"exists": kBool, "type": kString, "mode": kMode, "owner": kString, "group": kString,
	"uid": kInt, "gid": kInt, "size": kInt, "path": kString,
}

var probes = map[string]probeSpec{
	"file": {arg: true, options: map[string]kind{"follow": kBool}, fields: fileFields,
		build: func(arg string, o options) (probe, error) {
			return fileProbe{path: arg, follow: o.bool("follow", true)}, nil
		}},
	"glob": {arg: true, options: map[string]kind{"follow": kBool}, fields: fileFields, absentPass: true,
		build: func(arg string, o options) (probe, error) {
			if _, err := path.Match(arg, ""); err != nil {
				return nil, fmt.Errorf("bad glob pattern %q: %v", arg, err)
			}
			return globProbe{pattern: arg, follow: o.bool("follow", true)}, nil
		}},
	"lines": {arg: true, options: map[string]kind{"regex": kString, "comments": kString, "include": kString, "include_dir": kString},
		fields: map[string]kind{"line": kString, "path": kString},
		build: func(arg string, o options) (probe, error) {
			lp := linesProbe{path: arg, comments: o.str("comments", "#")}
			if inc, ok := o["include"]; ok {
				re, err := newRegex(inc, true)
				if err != nil {
					return nil, fmt.Errorf("include: %v", reErr(err))
				}
				if !slices.Contains(capNames(inc), "path") {
					return nil, fmt.Errorf("include: the regex needs a group (?P<path>...) naming the included file")
				}
				lp.include = re
				lp.includeDir = o["include_dir"]
			} else if _, ok := o["include_dir"]; ok {
				return nil, fmt.Errorf("include_dir: only with include")
			}
			if r, ok := o["regex"]; ok {
				// The loader has validated it (and read its groups).
				re, err := newRegex(r, false)
				if err != nil {
					return nil, fmt.Errorf("regex: %v", reErr(err))
				}
				lp.re = re
			}
			return lp, nil
		}},
	"kv": {arg: true, options: map[string]kind{"key": kString, "separator": kString, "dropins": kString,
		"last_wins": kBool, "ignore_case": kBool, "default": kString},
		required: []string{"key"}, fields: map[string]kind{"value": kString},
		build: func(arg string, o options) (probe, error) {
			sep := o.str("separator", "whitespace")
			if sep != "whitespace" && len(sep) != 1 {
				return nil, fmt.Errorf("separator: want \"whitespace\" or one character such as \"=\", got %q", sep)
			}
			return kvProbe{path: arg, key: o["key"], sep: sep, dropins: o["dropins"],
				lastWins: o.bool("last_wins", true), fold: o.bool("ignore_case", false), def: optional(o, "default")}, nil
		}},
	"ini": {arg: true, options: map[string]kind{"section": kString, "key": kString, "dropins": kString, "default": kString, "systemd": kBool},
		required: []string{"section", "key"}, fields: map[string]kind{"value": kString},
		build: func(arg string, o options) (probe, error) {
			ip := iniProbe{path: arg, section: o["section"], key: o["key"], dropins: o["dropins"], def: optional(o, "default"), systemd: o.bool("systemd", false)}
			if ip.systemd {
				if ip.dropins != "" {
					return nil, fmt.Errorf("systemd: the drop-in directories follow from the path; leave out dropins")
				}
				if !strings.HasPrefix(arg, "/etc/systemd/") {
					return nil, fmt.Errorf("systemd: want a path under /etc/systemd/ such as /etc/systemd/journald.conf, got %q", arg)
				}
			}
			return ip, nil
		}},
	"sshd": {arg: true, options: map[string]kind{"path": kString, "default": kString},
		fields: map[string]kind{"value": kString, "match": kString},
		build: func(arg string, o options) (probe, error) {
			return sshdProbe{keyword: arg, path: o.str("path", sshdConfig), def: optional(o, "default")}, nil
		}},
	"sysctl": {arg: true, options: map[string]kind{"live": kBool}, fields: map[string]kind{"value": kString},
		build: func(arg string, o options) (probe, error) {
			return sysctlProbe{name: sysctlName(arg), live: o.bool("live", true)}, nil
		}},
	"kmod": {arg: true, fields: map[string]kind{"loaded": kBool, "available": kBool, "disabled": kBool, "blacklisted": kBool},
		build: func(arg string, o options) (probe, error) { return kmodProbe{name: arg}, nil }},
	"mount": {arg: true, fields: map[string]kind{"mounted": kBool, "options": kList, "fstype": kString, "source": kString},
		build: func(arg string, o options) (probe, error) {
			if !path.IsAbs(arg) {
				return nil, fmt.Errorf("mount: want an absolute directory such as /tmp, got %q", arg)
			}
			return mountProbe{dir: path.Clean(arg)}, nil
		}},
	"package": {arg: true, fields: map[string]kind{"installed": kBool, "version": kVersion},
		build: func(arg string, o options) (probe, error) { return packageProbe{name: arg}, nil }},
	"service": {arg: true, fields: map[string]kind{"exists": kBool, "enabled": kBool, "masked": kBool},
		build: func(arg string, o options) (probe, error) { return serviceProbe{unit: arg}, nil }},
	"users": {fields: map[string]kind{"name": kString, "uid": kInt, "gid": kInt, "home": kString, "shell": kString,
		"password": kString, "home_exists": kBool, "home_uid": kInt, "home_mode": kMode, "password_state": kString,
		"group_exists": kBool, "shell_listed": kBool},
		build: func(string, options) (probe, error) { return usersProbe{}, nil }},
	"home_files": {arg: true, options: map[string]kind{"all_users": kBool}, fields: homeFileFields, absentPass: true,
		build: func(arg string, o options) (probe, error) {
			if strings.HasPrefix(arg, "/") || strings.Contains(arg, "/") {
				return nil, fmt.Errorf("home_files: want a file name or pattern inside each home directory such as \".netrc\", got %q", arg)
			}
			if _, err := path.Match(arg, ""); err != nil {
				return nil, fmt.Errorf("bad pattern %q: %v", arg, err)
			}
			return homeFilesProbe{pattern: arg, all: o.bool("all_users", false)}, nil
		}},
	"groups": {fields: map[string]kind{"name": kString, "gid": kInt, "members": kList},
		build: func(string, options) (probe, error) { return groupsProbe{}, nil }},
	"shadow": {fields: map[string]kind{"name": kString, "password_state": kString, "hash": kString,
		"last_change": kInt, "min": kInt, "max": kInt, "warn": kInt, "inactive": kInt, "expire": kInt,
		"last_change_in_future": kBool},
		build: func(string, options) (probe, error) { return shadowProbe{}, nil }},
	"pam": {arg: true, options: map[string]kind{"type": kString, "module": kString},
		fields: map[string]kind{"type": kString, "control": kString, "module": kString, "args": kList},
		dynamic: func(f string) (kind, bool) {
			name, ok := strings.CutPrefix(f, "arg.")
			return kString, ok && name != ""
		},
		build: func(arg string, o options) (probe, error) {
			t := o["type"]
			switch t {
			case "", "auth", "account", "password", "session":
			default:
				return nil, fmt.Errorf("type: want auth, account, password or session, got %q", t)
			}
			return pamProbe{service: arg, typ: t, module: strings.TrimSuffix(o["module"], ".so")}, nil
		}},
	"os": {fields: map[string]kind{"id": kString, "version_id": kString, "id_like": kList},
		build: func(string, options) (probe, error) { return osProbe{}, nil }},
}

func optional(o options, name string) *string {
	if v, ok := o[name]; ok {
		return &v
	}
	return nil
}

// ---- files ----

type fileProbe struct {
	path   string
	follow bool
}

func (p fileProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	o, err := statObs(ctx, h, p.path, p.follow)
	if err != nil {
		return observation{}, err
	}
	return observation{obs: []obs{o}}, nil
}

func statObs(ctx context.Context, h checks.Host, p string, follow bool) (obs, error) {
	var fi checks.FileInfo
	var err error
	if follow {
		fi, err = h.Stat(ctx, p)
	} else {
		fi, err = h.Lstat(ctx, p)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return obs{subject: p, path: p, fields: map[string]value{"exists": boolV(false), "path": strV(p)}, missing: "does not exist", gone: true}, nil
	}
	if err != nil {
		return obs{}, fmt.Errorf("stat %s: %w", p, err)
	}
	ids, err := loadIDs(ctx, h)
	if err != nil {
		return obs{}, err
	}
	typ := "other"
	switch {
	case fi.IsSymlink():
		typ = "symlink"
	case fi.IsDir():
		typ = "dir"
	case fi.Mode.IsRegular():
		typ = "file"
	}
	return obs{subject: p, path: p, fields: map[string]value{
		"exists": boolV(true), "type": strV(typ), "mode": modeV(fi.Perm()),
		"owner": strV(ids.user(fi.UID)), "group": strV(ids.group(fi.GID)),
		"uid": intV(int64(fi.UID)), "gid": intV(int64(fi.GID)), "size": intV(fi.Size), "path": strV(p),
	}}, nil
}

type globProbe struct {
	pattern string
	follow  bool
}

func (p globProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	paths, err := h.Glob(ctx, p.pattern)
	if err != nil {
		return observation{}, fmt.Errorf("glob %s: %w", p.pattern, err)
	}
	var out observation
	for _, m := range paths {
		o, err := statObs(ctx, h, m, p.follow)
		if err != nil {
			return observation{}, err
		}
		if o.missing == "" { // a dangling link matched the pattern
			out.obs = append(out.obs, o)
		}
	}
	if len(out.obs) == 0 {
		out.absent = "nothing matches " + p.pattern
	}
	return out, nil
}

type linesProbe struct {
	path     string
	re       *lazyRegex
	comments string
	// include, when set, matches lines that bring in other files (its
	// group "path", a file or glob, relative to the including file's
	// directory): those files' lines are read in place, as nft and
	// rsyslog do.
	include *lazyRegex
	// includeDir resolves relative include paths (nft: /etc); empty, the
	// including file's directory.
	includeDir string
}

// errNothingLoaded: a missing literal include voids the whole file.
type errNothingLoaded struct{ msg string }

func (e errNothingLoaded) Error() string { return e.msg }

// maxIncludes bounds the files one lines probe reads through includes,
// and maxIncludeNesting how deep includes nest (nft's own limit).
const (
	maxIncludes       = 256
	maxIncludeNesting = 16
)

// expandIncludes replaces each include line by the files it names, in
// order, following includes in them too (bounded in depth and count).
func (p linesProbe) expandIncludes(ctx context.Context, h checks.Host, files []fileText) ([]fileText, error) {
	re, err := p.include.get()
	if err != nil {
		return nil, fmt.Errorf("include: %w", err)
	}
	idx := re.SubexpIndex("path")
	var out []fileText
	count := 0
	var walk func(f fileText, depth int) error
	walk = func(f fileText, depth int) error {
		if count++; count > maxIncludes {
			return fmt.Errorf("%s: more than %d files through includes", p.path, maxIncludes)
		}
		var seg strings.Builder
		segStart := 0
		flush := func() {
			if seg.Len() > 0 {
				out = append(out, fileText{path: f.path, data: seg.String(), offset: segStart})
				seg.Reset()
			}
		}
		var werr error
		f.lines(func(n int, line string) {
			if werr != nil {
				return
			}
			m := re.FindStringSubmatch(line)
			if m == nil {
				if seg.Len() == 0 {
					segStart = n - 1
				}
				seg.WriteString(line)
				seg.WriteByte('\n')
				return
			}
			flush()
			if depth >= maxIncludeNesting {
				werr = &checks.SyntaxError{Path: f.path, Line: n, Msg: "include nested too deeply (loop?)"}
				return
			}
			target := m[idx]
			if target == "" {
				werr = &checks.SyntaxError{Path: f.path, Line: n, Msg: "include names no file"}
				return
			}
			if !path.IsAbs(target) {
				dir := p.includeDir
				if dir == "" {
					dir = path.Dir(f.path)
				}
				target = path.Join(dir, target)
			}
			// Count before reading: a pattern over a big directory must
			// not be read just to be refused.
			paths := []string{target}
			if strings.ContainsAny(target, "*?[") {
				if paths, err = globFiles(ctx, h, target); err != nil {
					werr = fmt.Errorf("%s:%d: include %s: %w", f.path, n, target, err)
					return
				}
			}
			if count+len(paths) > maxIncludes {
				werr = fmt.Errorf("%s: more than %d files through includes", p.path, maxIncludes)
				return
			}
			inc, err := readFiles(ctx, h, target)
			if err != nil {
				werr = err
				return
			}
			if len(inc) == 0 && !strings.ContainsAny(target, "*?[") {
				// nft refuses a whole file whose literal include is
				// missing: none of its lines take effect.
				werr = errNothingLoaded{fmt.Sprintf("%s:%d: include %s does not exist, so nothing in %s is loaded", f.path, n, target, p.path)}
				return
			}
			for _, g := range inc {
				if werr = walk(g, depth+1); werr != nil {
					return
				}
			}
		})
		flush()
		return werr
	}
	for _, f := range files {
		if err := walk(f, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readFiles reads a path or a glob's regular files in name order; files
// that do not exist are skipped.
func readFiles(ctx context.Context, h checks.Host, pattern string) ([]fileText, error) {
	if !strings.ContainsAny(pattern, "*?[") {
		return readAll(ctx, h, []string{pattern})
	}
	paths, err := globFiles(ctx, h, pattern)
	if err != nil {
		return nil, fmt.Errorf("glob %s: %w", pattern, err)
	}
	// A pattern such as /etc/dconf/db/*.d/* also matches directories
	// (locks/); only files have settings.
	var files []string
	for _, p := range paths {
		fi, err := h.Stat(ctx, p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// A dangling link.
		case err != nil:
			return nil, fmt.Errorf("stat %s: %w", p, err)
		case fi.IsDir():
		default:
			files = append(files, p)
		}
	}
	return readAll(ctx, h, files)
}

// readConfig reads a configuration file once per scan (many checks read
// the same few: the audit rules, login.defs, sshd_config). A file masked
// the systemd way, a link to /dev/null or a character device, reads as
// empty, as the programs reading it see it.
func readConfig(ctx context.Context, h checks.Host, p string) (string, error) {
	return checks.Memoized(h, "declarative.read:"+p, func() (string, error) {
		data, err := h.ReadFile(ctx, p)
		if err == nil || ctx.Err() != nil {
			return string(data), err
		}
		// A link to /dev/null masks the file, whether or not the scanned
		// root has a /dev/null.
		if target, lerr := h.Readlink(ctx, p); lerr == nil && path.Clean(target) == "/dev/null" {
			return "", nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if fi, serr := h.Stat(ctx, p); serr == nil && fi.Mode&fs.ModeCharDevice != 0 {
			return "", nil
		}
		return "", err
	})
}

// globFiles globs once per scan.
func globFiles(ctx context.Context, h checks.Host, pattern string) ([]string, error) {
	paths, err := checks.Memoized(h, "declarative.glob:"+pattern, func() ([]string, error) {
		return h.Glob(ctx, pattern)
	})
	return slices.Clone(paths), err
}

type fileText struct {
	path string
	data string
	// offset is the number of lines of the file before data (a part of
	// a file split by includes).
	offset int
}

// lines calls fn for each line with its 1-based number in the file,
// without the newline.
func (f fileText) lines(fn func(n int, line string)) {
	n := f.offset
	for rest := f.data; rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		n++
		fn(n, strings.TrimSuffix(line, "\r"))
	}
}

func (p linesProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	files, err := readFiles(ctx, h, p.path)
	if err != nil {
		return observation{}, err
	}
	existed := len(files) > 0
	if p.include != nil {
		files, err = p.expandIncludes(ctx, h, files)
		var nothing errNothingLoaded
		if errors.As(err, &nothing) {
			return observation{absent: nothing.msg}, nil
		}
		if err != nil {
			return observation{}, err
		}
	}
	var re *regexp.Regexp
	if p.re != nil {
		if re, err = p.re.get(); err != nil {
			return observation{}, fmt.Errorf("regex: %w", err)
		}
	}
	var out observation
	for _, f := range files {
		f.lines(func(n int, line string) {
			trimmed := strings.TrimSpace(line)
			if trimmed == "" || (p.comments != "" && strings.HasPrefix(trimmed, p.comments)) {
				return
			}
			fields := map[string]value{"line": strV(trimmed), "path": strV(f.path)}
			if re != nil {
				m := re.FindStringSubmatch(line)
				if m == nil {
					return
				}
				for i, name := range re.SubexpNames() {
					if name != "" {
						fields[name] = strV(m[i])
					}
				}
			}
			out.obs = append(out.obs, obs{subject: fmt.Sprintf("%s:%d", f.path, n), path: f.path, line: n, fields: fields})
		})
	}
	switch {
	case len(out.obs) > 0:
	case !existed:
		out.absent = p.path + " does not exist"
	case p.re != nil:
		out.absent = fmt.Sprintf("no line of %s matches /%s/", p.path, p.re)
	default:
		out.absent = p.path + " has no settings"
	}
	return out, nil
}

// ---- key/value and INI ----

type kvProbe struct {
	path, key, sep, dropins string
	lastWins, fold          bool
	def                     *string
}

// readWithDropins reads a configuration file, then its drop-ins.
func readWithDropins(ctx context.Context, h checks.Host, file, dropinGlob string) ([]fileText, error) {
	files, err := readFiles(ctx, h, file)
	if err != nil || dropinGlob == "" {
		return files, err
	}
	more, err := readFiles(ctx, h, dropinGlob)
	return append(files, more...), err
}

func (p kvProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	files, err := readWithDropins(ctx, h, p.path, p.dropins)
	if err != nil {
		return observation{}, err
	}
	var found *obs
	for _, f := range files {
		f.lines(func(n int, line string) {
			if found != nil && !p.lastWins {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				return
			}
			var k, v string
			if p.sep == "whitespace" {
				k, v, _ = strings.Cut(strings.ReplaceAll(line, "\t", " "), " ")
			} else {
				var ok bool
				if k, v, ok = strings.Cut(line, p.sep); !ok {
					return
				}
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if k == p.key || (p.fold && strings.EqualFold(k, p.key)) {
				found = &obs{subject: p.key, path: f.path, line: n, fields: map[string]value{"value": strV(unquote(v))}}
			}
		})
	}
	return settingResult(found, p.key, p.def, fmt.Sprintf("%s is not set in %s", p.key, p.where(files)))
}

func (p kvProbe) where(files []fileText) string {
	if p.dropins != "" {
		return p.path + " or " + p.dropins
	}
	return p.path
}

// settingResult turns a looked-up setting into observations: the setting,
// or the documented default, or none with the reason.
func settingResult(found *obs, subject string, def *string, absent string) (observation, error) {
	switch {
	case found != nil:
		return observation{obs: []obs{*found}}, nil
	case def != nil:
		return observation{obs: []obs{{subject: subject + " (default)", fields: map[string]value{"value": strV(*def)}}}}, nil
	}
	return observation{absent: absent}, nil
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

type iniProbe struct {
	path, section, key, dropins string
	def                         *string
	// systemd: read the file as systemd does (systemd.syntax(7)): the
	// first of /etc, /run, /usr/local/lib and /usr/lib, then NAME.d/*.conf
	// from all four, by file name, a name in /etc hiding later ones.
	systemd bool
}

// systemdConfigDirs are where systemd looks for its own configuration,
// highest precedence first.
var systemdConfigDirs = []string{"/etc/systemd", "/run/systemd", "/usr/local/lib/systemd", "/usr/lib/systemd"}

func (p iniProbe) files(ctx context.Context, h checks.Host) ([]fileText, error) {
	if !p.systemd {
		return readWithDropins(ctx, h, p.path, p.dropins)
	}
	rel := strings.TrimPrefix(p.path, "/etc/systemd/")
	var files []fileText
	for _, d := range systemdConfigDirs {
		main, err := readFiles(ctx, h, path.Join(d, rel))
		if err != nil {
			return nil, err
		}
		if len(main) > 0 {
			files = main
			break
		}
	}
	dirs := make([]string, len(systemdConfigDirs))
	for i, d := range systemdConfigDirs {
		dirs[i] = path.Join(d, rel+".d")
	}
	names, err := dropins(ctx, h, dirs, ".conf")
	if err != nil {
		return nil, err
	}
	more, err := readAll(ctx, h, names)
	return append(files, more...), err
}

func (p iniProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	files, err := p.files(ctx, h)
	if err != nil {
		return observation{}, err
	}
	var found *obs
	for _, f := range files {
		section := ""
		f.lines(func(n int, line string) {
			line = strings.TrimSpace(line)
			switch {
			case line == "" || line[0] == '#' || line[0] == ';':
			case line[0] == '[' && strings.HasSuffix(line, "]"):
				section = strings.TrimSpace(line[1 : len(line)-1])
			case section == p.section:
				k, v, ok := strings.Cut(line, "=")
				if ok && strings.TrimSpace(k) == p.key {
					found = &obs{subject: "[" + p.section + "] " + p.key, path: f.path, line: n,
						fields: map[string]value{"value": strV(unquote(strings.TrimSpace(v)))}}
				}
			}
		})
	}
	where := p.path
	switch {
	case p.systemd:
		where += " or its drop-ins (" + strings.TrimPrefix(p.path, "/etc/systemd/") + ".d in /etc, /run, /usr/lib)"
	case p.dropins != "":
		where += " or " + p.dropins
	}
	return settingResult(found, "["+p.section+"] "+p.key, p.def, fmt.Sprintf("%s is not set in [%s] of %s", p.key, p.section, where))
}

// ---- packages, services, os ----

type packageProbe struct{ name string }

func (p packageProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	db, err := pkgdb.Read(ctx, h)
	if err != nil {
		return observation{}, fmt.Errorf("package database: %w", err)
	}
	pkg, ok := db.Lookup(p.name)
	o := obs{subject: "package " + p.name, path: db.Source, fields: map[string]value{"installed": boolV(ok)}}
	if ok {
		o.fields["version"] = value{s: pkg.Version, cmp: db.Compare}
	} else {
		o.missing, o.gone = "not installed", true
	}
	return observation{obs: []obs{o}}, nil
}

type serviceProbe struct{ unit string }

func (p serviceProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	st, err := systemd.Unit(ctx, h, p.unit)
	if err != nil {
		return observation{}, err
	}
	src := st.Path
	if st.EnabledBy != "" {
		src = st.EnabledBy
	}
	return observation{obs: []obs{{subject: st.Unit, path: src, fields: map[string]value{
		"exists": boolV(st.Exists()), "enabled": boolV(st.Enabled), "masked": boolV(st.Masked),
	}}}}, nil
}

type osProbe struct{}

func (osProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	info, err := osrelease.Read(ctx, h)
	if err != nil {
		return observation{}, err
	}
	return observation{obs: []obs{{subject: "os-release", path: "/etc/os-release", fields: map[string]value{
		"id": strV(info.ID), "version_id": strV(info.VersionID), "id_like": listV(info.IDLike),
	}}}}, nil
}

// ---- PAM ----

type pamProbe struct{ service, typ, module string }

func (p pamProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	svc, err := pam.Load(ctx, h, p.service)
	if errors.Is(err, fs.ErrNotExist) {
		return observation{absent: "PAM service " + p.service + " does not exist"}, nil
	}
	if err != nil {
		return observation{}, err
	}
	var out observation
	for _, r := range svc.Rules {
		if r.IsInclude() || (p.typ != "" && r.Type != p.typ) || (p.module != "" && r.ModuleName() != p.module) {
			continue
		}
		args := make([]string, len(r.Args))
		fields := map[string]value{"type": strV(r.Type), "control": strV(r.Control.String()), "module": strV(r.ModuleName() + ".so")}
		for i, a := range r.Args {
			args[i] = a.String()
			v := "true"
			if a.HasValue {
				v = a.Value
			}
			fields["arg."+a.Name] = strV(v)
		}
		fields["args"] = listV(args)
		out.obs = append(out.obs, obs{subject: fmt.Sprintf("%s %s %s", r.Type, r.Control, r.ModuleName()), path: r.Pos.File, line: r.Pos.Line, fields: fields})
	}
	if len(out.obs) == 0 {
		what := "no rule"
		if p.module != "" {
			what = "no " + p.module + " rule"
		}
		if p.typ != "" {
			what += " of type " + p.typ
		}
		out.absent = fmt.Sprintf("%s in PAM service %s", what, p.service)
	}
	return out, nil
}

// ---- accounts ----

type usersProbe struct{}

func (usersProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	return checks.Memoized(h, "declarative.users", func() (observation, error) {
		users, err := loadPasswd(ctx, h)
		if err != nil {
			return observation{}, err
		}
		// password_state joins /etc/shadow; a host without it (or an
		// account missing from it) leaves the field unset.
		sh, err := shadow.Load(ctx, h)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return observation{}, fmt.Errorf("password_state: %w", err)
		}
		// group_exists joins /etc/group, shell_listed /etc/shells.
		// A malformed /etc/group or unreadable /etc/shells leaves only
		// those fields unset (with the reason), not every users check.
		groups, gerr := loadGroups(ctx, h)
		gids := map[int64]bool{}
		for _, g := range groups {
			gids[g.gid] = true
		}
		shells, serr := loadShells(ctx, h)
		joinWhy := map[string]string{}
		if gerr != nil {
			groups, joinWhy["group_exists"] = nil, "not known: "+gerr.Error()
		}
		if serr != nil {
			shells, joinWhy["shell_listed"] = nil, "not known: "+serr.Error()
		}
		var out observation
		for _, u := range users {
			f := map[string]value{"name": strV(u.name), "uid": intV(u.uid), "gid": intV(u.gid),
				"home": strV(u.home), "shell": strV(u.shell), "password": strV(u.password)}
			if sh != nil {
				if e, ok := sh.Lookup(u.name); ok {
					f["password_state"] = strV(e.State().String())
				}
			}
			if groups != nil {
				f["group_exists"] = boolV(gids[u.gid])
			}
			if shells != nil {
				f["shell_listed"] = boolV(shells[u.shell])
			}
			o := obs{subject: "user " + u.name, path: passwdPath, line: u.line, fields: f, why: maps.Clone(joinWhy)}
			if u.home != "" {
				fi, err := h.Stat(ctx, u.home)
				switch {
				case err == nil:
					f["home_exists"] = boolV(fi.IsDir())
					f["home_uid"] = intV(int64(fi.UID))
					f["home_mode"] = modeV(fi.Perm())
				case errors.Is(err, fs.ErrNotExist):
					f["home_exists"] = boolV(false)
					gone := "home " + u.home + " does not exist"
					if o.why == nil {
						o.why = map[string]string{}
					}
					o.why["home_uid"], o.why["home_mode"] = gone, gone
				default:
					return observation{}, fmt.Errorf("stat %s (home of %s): %w", u.home, u.name, err)
				}
			}
			out.obs = append(out.obs, o)
		}
		if len(out.obs) == 0 {
			out.absent = passwdPath + " has no entries"
		}
		return out, nil
	})
}

// homeFilesProbe observes files matching a pattern in each interactive
// user's home directory (a shell listed in /etc/shells other than nologin
// and false, as CIS defines interactive), or every user's with all_users.
// Links are observed as links, not followed out of the home.
type homeFilesProbe struct {
	pattern string
	all     bool
}

func (p homeFilesProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	return checks.Memoized(h, fmt.Sprintf("declarative.home_files:%v:%s", p.all, p.pattern), func() (observation, error) {
		users, err := loadPasswd(ctx, h)
		if err != nil {
			return observation{}, err
		}
		shells, err := loadShells(ctx, h)
		if err != nil {
			return observation{}, err
		}
		var out observation
		seen := map[string]bool{}
		for _, u := range users {
			if !p.all && !interactive(u.shell, shells) {
				continue
			}
			if u.home == "" || u.home == "/" || seen[u.home] {
				continue
			}
			seen[u.home] = true
			matches, err := globFiles(ctx, h, path.Join(globEscape(u.home), p.pattern))
			if err != nil {
				return observation{}, fmt.Errorf("glob %s: %w", path.Join(u.home, p.pattern), err)
			}
			for _, m := range matches {
				o, err := statObs(ctx, h, m, false)
				if err != nil {
					return observation{}, err
				}
				if o.gone {
					continue
				}
				o.subject = "user " + u.name + ": " + m
				o.fields["user"] = strV(u.name)
				o.fields["user_uid"] = intV(u.uid)
				o.fields["user_gid"] = intV(u.gid)
				out.obs = append(out.obs, o)
			}
		}
		if len(out.obs) == 0 {
			out.absent = "no " + p.pattern + " in any interactive user's home directory"
		}
		return out, nil
	})
}

// globEscape quotes the glob metacharacters of a literal path.
func globEscape(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// interactive reports whether a login shell makes an account interactive:
// listed in /etc/shells and not nologin or false; without /etc/shells, any
// shell whose name ends in "sh".
func interactive(shell string, shells map[string]bool) bool {
	base := path.Base(shell)
	if base == "nologin" || base == "false" {
		return false
	}
	if shells == nil {
		return strings.HasSuffix(base, "sh")
	}
	return shells[shell]
}

// loadShells reads /etc/shells; nil when the file does not exist.
func loadShells(ctx context.Context, h checks.Host) (map[string]bool, error) {
	return checks.Memoized(h, "declarative.shells", func() (map[string]bool, error) {
		data, err := readConfig(ctx, h, "/etc/shells")
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read /etc/shells: %w", err)
		}
		out := map[string]bool{}
		fileText{path: "/etc/shells", data: data}.lines(func(_ int, line string) {
			if line = strings.TrimSpace(line); line != "" && line[0] != '#' {
				out[line] = true
			}
		})
		return out, nil
	})
}

type groupsProbe struct{}

func (groupsProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	groups, err := loadGroups(ctx, h)
	if err != nil {
		return observation{}, err
	}
	var out observation
	for _, g := range groups {
		out.obs = append(out.obs, obs{subject: "group " + g.name, path: groupPath, line: g.line, fields: map[string]value{
			"name": strV(g.name), "gid": intV(g.gid), "members": listV(g.members)}})
	}
	if len(out.obs) == 0 {
		out.absent = groupPath + " has no entries"
	}
	return out, nil
}

type shadowProbe struct{}

func (shadowProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	f, err := shadow.Load(ctx, h)
	if err != nil {
		return observation{}, err
	}
	var out observation
	today := time.Now().Unix() / 86400
	for _, e := range f.Entries {
		fields := map[string]value{
			"name": strV(e.Name), "password_state": strV(e.State().String()), "hash": strV(e.HashMethod()),
			"last_change": intV(int64(e.LastChange)), "min": intV(int64(e.Min)), "max": intV(int64(e.Max)),
			"warn": intV(int64(e.Warn)), "inactive": intV(int64(e.Inactive)), "expire": intV(int64(e.Expire)),
		}
		if e.LastChange > 0 {
			// A yes/no rather than a number of days, so that a report
			// (and a drift) does not change every day by itself.
			fields["last_change_in_future"] = boolV(int64(e.LastChange) > today)
		}
		out.obs = append(out.obs, obs{subject: "account " + e.Name, path: shadow.Path, line: e.Line, fields: fields})
	}
	if len(out.obs) == 0 {
		out.absent = shadow.Path + " has no entries"
	}
	return out, nil
}

// atoi64 parses a decimal id field; -1 when it is not a number.
func atoi64(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}
