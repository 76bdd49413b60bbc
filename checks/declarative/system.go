package declarative

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/fstab"
	"github.com/plumbline/plumbline/checks/systemd"
)

// ---- sshd_config ----

const sshdConfig = "/etc/ssh/sshd_config"

// maxIncludeDepth bounds Include nesting (sshd's own limit is 16).
const maxIncludeDepth = 16

// sshdSetting is one keyword line of the effective configuration.
type sshdSetting struct {
	keyword string // lower case
	value   string
	path    string
	line    int
	// match is the Match block's criteria, "" in the global section.
	match string
}

// sshdConfigFile is the parsed configuration with Include expanded, in
// the order sshd reads it.
type sshdConfigFile struct {
	settings []sshdSetting
	// files counts the files read, bounded by maxSSHDFiles.
	files int
}

// maxSSHDFiles bounds how many files one sshd configuration may bring in
// through Include: a hostile image must not keep every sshd check busy.
const maxSSHDFiles = 256

func loadSSHD(ctx context.Context, h checks.Host, file string) (*sshdConfigFile, error) {
	return checks.Memoized(h, "declarative.sshd:"+file, func() (*sshdConfigFile, error) {
		c := &sshdConfigFile{}
		if err := c.read(ctx, h, file, 0, ""); err != nil {
			return nil, err
		}
		return c, nil
	})
}

func (c *sshdConfigFile) read(ctx context.Context, h checks.Host, file string, depth int, match string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.files++; c.files > maxSSHDFiles {
		return fmt.Errorf("%s: more than %d files through Include", sshdConfig, maxSSHDFiles)
	}
	data, err := readConfig(ctx, h, file)
	if err != nil {
		if depth > 0 && errors.Is(err, fs.ErrNotExist) {
			return nil // sshd ignores an Include that matches nothing
		}
		return err
	}
	ft := fileText{path: file, data: data}
	var ferr error
	ft.lines(func(n int, line string) {
		if ferr != nil {
			return
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			return
		}
		kw, rest := splitKeyword(line)
		toks, terr := sshdTokens(rest)
		if terr != nil {
			ferr = &checks.SyntaxError{Path: file, Line: n, Msg: terr.Error() + " (sshd refuses this file)"}
			return
		}
		rest = strings.Join(toks, " ")
		lkw := strings.ToLower(kw)
		switch lkw {
		case "match":
			// A Match block lasts to the next Match or the end of the file
			// it is written in.
			match = rest
			return
		case "include":
			if depth >= maxIncludeDepth {
				ferr = &checks.SyntaxError{Path: file, Line: n, Msg: "Include nested too deeply (loop?)"}
				return
			}
			for _, pat := range strings.Fields(rest) {
				if !path.IsAbs(pat) {
					pat = path.Join("/etc/ssh", pat)
				}
				matches := []string{pat}
				if strings.ContainsAny(pat, "*?[") {
					var err error
					if matches, err = h.Glob(ctx, pat); err != nil {
						ferr = fmt.Errorf("%s:%d: Include %s: %w", file, n, pat, err)
						return
					}
				}
				for _, m := range matches {
					if err := c.read(ctx, h, m, depth+1, match); err != nil {
						ferr = err
						return
					}
				}
			}
			return
		}
		c.settings = append(c.settings, sshdSetting{keyword: lkw, value: sshdValue(rest), path: file, line: n, match: match})
	})
	return ferr
}

// splitKeyword splits "Keyword value" or "Keyword=value".
func splitKeyword(line string) (string, string) {
	i := strings.IndexAny(line, " \t=")
	if i < 0 {
		return line, ""
	}
	rest := strings.TrimLeft(line[i:], " \t")
	rest = strings.TrimPrefix(rest, "=")
	return line[:i], strings.TrimSpace(rest)
}

// sshdTokens splits a value as sshd's argv_split does: blanks separate
// tokens; single or double quotes group; a backslash escapes a quote, a
// backslash or (outside quotes) a blank, and is kept before anything else;
// a token starting with "#" ends the line, so "no # CIS 5.1.20" is "no".
// An unclosed quote is an error: sshd refuses such a file.
func sshdTokens(s string) ([]string, error) {
	var out []string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) || s[i] == '#' {
			return out, nil
		}
		var tok strings.Builder
		var quote byte
		for ; i < len(s); i++ {
			c := s[i]
			if quote == 0 && (c == ' ' || c == '\t') {
				break
			}
			if c == '\\' && i+1 < len(s) {
				next := s[i+1]
				if next == '\'' || next == '"' || next == '\\' || (quote == 0 && next == ' ') {
					tok.WriteByte(next)
					i++
					continue
				}
				tok.WriteByte(c)
				continue
			}
			switch {
			case quote == 0 && (c == '\'' || c == '"'):
				quote = c
			case quote != 0 && c == quote:
				quote = 0
			default:
				tok.WriteByte(c)
			}
		}
		if quote != 0 {
			return nil, fmt.Errorf("unterminated quoted argument")
		}
		out = append(out, tok.String())
	}
}

var keywordValue = func(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && r != '-' {
			return false
		}
	}
	return s != ""
}

// sshdValue lower-cases keyword values (yes, VERBOSE, prohibit-password)
// as sshd -T prints them; paths and lists stay as written.
func sshdValue(v string) string {
	if keywordValue(v) {
		return strings.ToLower(v)
	}
	return v
}

type sshdProbe struct {
	keyword, path string
	def           *string
}

func (p sshdProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	cfg, err := loadSSHD(ctx, h, p.path)
	if errors.Is(err, fs.ErrNotExist) {
		return observation{absent: p.path + " does not exist"}, nil
	}
	if err != nil {
		return observation{}, fmt.Errorf("sshd configuration: %w", err)
	}
	kw := strings.ToLower(p.keyword)
	var global *obs
	var out observation
	seenMatch := map[string]bool{}
	for _, s := range cfg.settings {
		if s.keyword != kw {
			continue
		}
		// sshd keeps the first value it reads for a keyword, globally and
		// within each Match block.
		if s.match == "" {
			if global == nil {
				global = &obs{subject: p.keyword, path: s.path, line: s.line, fields: map[string]value{"value": strV(s.value), "match": strV("")}}
			}
			continue
		}
		if !seenMatch[s.match] {
			seenMatch[s.match] = true
			out.obs = append(out.obs, obs{subject: p.keyword + " in Match " + s.match, path: s.path, line: s.line, fields: map[string]value{"value": strV(s.value), "match": strV(s.match)}})
		}
	}
	// "Match all" applies to every connection: its value overrides the
	// global one rather than adding a case.
	// A Match block after it can no longer change the keyword either: sshd
	// keeps the first value among the blocks that apply, and every
	// connection matches "all".
	for i, o := range out.obs {
		if strings.EqualFold(strings.TrimSpace(o.fields["match"].s), "all") {
			o.subject = p.keyword + " (Match all)"
			global = &o
			out.obs = out.obs[:i:i]
			break
		}
	}
	g, _ := settingResult(global, p.keyword, p.def, "")
	for i := range g.obs {
		g.obs[i].fields["match"] = strV("")
	}
	out.obs = append(g.obs, out.obs...)
	if len(out.obs) == 0 {
		out.absent = fmt.Sprintf("%s is not set in %s or its includes", p.keyword, p.path)
	}
	return out, nil
}

// dropins lists the drop-in files of dirs (highest precedence first) in the
// order they apply: by file name, a name in an earlier directory hiding
// the same name in later ones, as systemd and procps read sysctl.d,
// modprobe.d and unit .d directories.
func dropins(ctx context.Context, h checks.Host, dirs []string, suffix string) ([]string, error) {
	chosen := map[string]string{}
	for _, dir := range dirs {
		entries, err := h.ReadDir(ctx, dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", dir, err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name, suffix) && chosen[e.Name] == "" && !e.IsDir() {
				chosen[e.Name] = path.Join(dir, e.Name)
			}
		}
	}
	files := make([]string, 0, len(chosen))
	for _, n := range slices.Sorted(maps.Keys(chosen)) {
		files = append(files, chosen[n])
	}
	return files, nil
}

// readAll reads files in order, skipping those that do not exist (a
// dangling link, an optional file).
func readAll(ctx context.Context, h checks.Host, paths []string) ([]fileText, error) {
	var out []fileText
	for _, f := range paths {
		data, err := readConfig(ctx, h, f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		out = append(out, fileText{path: f, data: data})
	}
	return out, nil
}

// ---- sysctl ----

// sysctlDirs are the drop-in directories, highest precedence first, as
// systemd-sysctl and "sysctl --system" read them.
var sysctlDirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}

type sysctlSetting struct {
	value string
	path  string
	line  int
}

// loadSysctlConf applies every configuration file in order: drop-ins by
// file name (a name in /etc hides the same name in /usr/lib), then
// /etc/sysctl.conf; a later assignment wins.
func loadSysctlConf(ctx context.Context, h checks.Host) (map[string]sysctlSetting, error) {
	return checks.Memoized(h, "declarative.sysctl", func() (map[string]sysctlSetting, error) {
		names, err := dropins(ctx, h, sysctlDirs, ".conf")
		if err != nil {
			return nil, err
		}
		files, err := readAll(ctx, h, append(names, "/etc/sysctl.conf"))
		if err != nil {
			return nil, err
		}
		out := map[string]sysctlSetting{}
		for _, ft := range files {
			f := ft.path
			ft.lines(func(n int, line string) {
				line = strings.TrimSpace(line)
				if line == "" || line[0] == '#' || line[0] == ';' {
					return
				}
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					return
				}
				k = sysctlName(strings.TrimPrefix(strings.TrimSpace(k), "-"))
				out[k] = sysctlSetting{value: strings.Join(strings.Fields(v), " "), path: f, line: n}
			})
		}
		return out, nil
	})
}

type sysctlProbe struct {
	name string
	live bool
}

func (p sysctlProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	conf, err := loadSysctlConf(ctx, h)
	if err != nil {
		return observation{}, err
	}
	var out observation
	configured := obs{subject: p.name + " (configured)", fields: map[string]value{}}
	if s, ok := conf[p.name]; ok {
		configured.path, configured.line = s.path, s.line
		configured.fields["value"] = strV(s.value)
	} else {
		configured.missing = "not set in /etc/sysctl.conf or any sysctl.d file"
	}
	out.obs = append(out.obs, configured)
	if !p.live {
		return out, nil
	}
	procPath := sysctlPath(p.name)
	data, err := h.ReadFile(ctx, procPath)
	switch {
	case err == nil:
		out.obs = append(out.obs, obs{subject: p.name + " (running)", path: procPath,
			fields: map[string]value{"value": strV(strings.Join(strings.Fields(string(data)), " "))}})
	case errors.Is(err, fs.ErrNotExist) && !h.Live():
		out.notes = append(out.notes, checks.Evidence{Key: p.name + " (running)", Actual: "not observable: not the live host", OK: true})
	case errors.Is(err, fs.ErrNotExist):
		out.notes = append(out.notes, checks.Evidence{Key: p.name + " (running)", Actual: "not present in the running kernel", OK: true, Path: procPath})
	default:
		return observation{}, fmt.Errorf("read %s: %w", procPath, err)
	}
	return out, nil
}

// sysctlName normalises a key to dotted form as sysctl.d(5) reads it:
// when the first separator is "/", slashes separate and dots belong to a
// name ("net/ipv4/conf/eth0.100/rp_filter" is net.ipv4.conf.eth0/100.rp_filter).
func sysctlName(k string) string {
	i := strings.IndexAny(k, "./")
	if i < 0 || k[i] == '.' {
		return k
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '/':
			return '.'
		case '.':
			return '/'
		}
		return r
	}, k)
}

// sysctlPath is where the running value of a dotted key lives.
func sysctlPath(k string) string {
	return "/proc/sys/" + strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, k)
}

// ---- kernel modules ----

var modprobeDirs = []string{"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d"}

type modprobeConf struct {
	// install maps a module to its install command line and source.
	install   map[string]sysctlSetting
	blacklist map[string]sysctlSetting
}

func modName(s string) string { return strings.ReplaceAll(s, "-", "_") }

func loadModprobe(ctx context.Context, h checks.Host) (*modprobeConf, error) {
	return checks.Memoized(h, "declarative.modprobe", func() (*modprobeConf, error) {
		c := &modprobeConf{install: map[string]sysctlSetting{}, blacklist: map[string]sysctlSetting{}}
		names, err := dropins(ctx, h, modprobeDirs, ".conf")
		if err != nil {
			return nil, err
		}
		files, err := readAll(ctx, h, names)
		if err != nil {
			return nil, err
		}
		for _, ft := range files {
			f := ft.path
			ft.lines(func(n int, line string) {
				fields := strings.Fields(line)
				if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
					return
				}
				m := modName(fields[1])
				switch fields[0] {
				case "install":
					// modprobe uses the first install command it reads.
					if _, ok := c.install[m]; !ok {
						c.install[m] = sysctlSetting{value: strings.Join(fields[2:], " "), path: f, line: n}
					}
				case "blacklist":
					if _, ok := c.blacklist[m]; !ok {
						c.blacklist[m] = sysctlSetting{path: f, line: n}
					}
				}
			})
		}
		return c, nil
	})
}

// moduleIndex is every module file of every installed kernel, by name.
func moduleIndex(ctx context.Context, h checks.Host) (map[string]string, error) {
	return checks.Memoized(h, "declarative.modules", func() (map[string]string, error) {
		idx := map[string]string{}
		kernels, err := h.ReadDir(ctx, "/lib/modules")
		if errors.Is(err, fs.ErrNotExist) {
			return idx, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read /lib/modules: %w", err)
		}
		for _, k := range kernels {
			for _, list := range []string{"modules.dep", "modules.builtin"} {
				p := path.Join("/lib/modules", k.Name, list)
				data, err := h.ReadFile(ctx, p)
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil {
					return nil, fmt.Errorf("read %s: %w", p, err)
				}
				fileText{path: p, data: string(data)}.lines(func(n int, line string) {
					file, _, _ := strings.Cut(line, ":")
					base := path.Base(strings.TrimSpace(file))
					name, _, _ := strings.Cut(base, ".ko")
					if name != "" {
						if _, ok := idx[modName(name)]; !ok {
							idx[modName(name)] = p
						}
					}
				})
			}
		}
		return idx, nil
	})
}

type kmodProbe struct{ name string }

// disablingCommands make "modprobe NAME" fail or do nothing.
var disablingCommands = []string{"/bin/false", "/usr/bin/false", "/bin/true", "/usr/bin/true"}

func (p kmodProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	name := modName(p.name)
	conf, err := loadModprobe(ctx, h)
	if err != nil {
		return observation{}, err
	}
	idx, err := moduleIndex(ctx, h)
	if err != nil {
		return observation{}, err
	}
	o := obs{subject: "module " + p.name, fields: map[string]value{}}
	inst, hasInstall := conf.install[name]
	disabled := hasInstall && slices.Contains(disablingCommands, strings.Fields(inst.value + " x")[0])
	o.fields["disabled"] = boolV(disabled)
	if hasInstall {
		o.path, o.line = inst.path, inst.line
	}
	bl, blacklisted := conf.blacklist[name]
	o.fields["blacklisted"] = boolV(blacklisted)
	if blacklisted && o.path == "" {
		o.path, o.line = bl.path, bl.line
	}
	_, available := idx[name]
	o.fields["available"] = boolV(available)
	var out observation
	loaded := false
	data, err := h.ReadFile(ctx, "/proc/modules")
	switch {
	case err == nil:
		fileText{data: string(data)}.lines(func(_ int, line string) {
			if f, _, _ := strings.Cut(line, " "); modName(f) == name {
				loaded = true
			}
		})
	case errors.Is(err, fs.ErrNotExist) && !h.Live():
		out.notes = append(out.notes, checks.Evidence{Key: "module " + p.name + " loaded", Actual: "not observable: not the live host (taken as not loaded)", OK: true})
	case errors.Is(err, fs.ErrNotExist):
		out.notes = append(out.notes, checks.Evidence{Key: "module " + p.name + " loaded", Actual: "no /proc/modules: the running kernel does not load modules", OK: true})
	default:
		return observation{}, fmt.Errorf("read /proc/modules: %w", err)
	}
	o.fields["loaded"] = boolV(loaded)
	out.obs = []obs{o}
	return out, nil
}

// ---- mounts ----

type mountProbe struct{ dir string }

func (p mountProbe) observe(ctx context.Context, h checks.Host) (observation, error) {
	src := "/etc/fstab"
	if h.Live() {
		src = "/proc/self/mounts"
	}
	entries, err := fstab.Read(ctx, h, src)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return observation{}, fmt.Errorf("read %s: %w", src, err)
	}
	var found *fstab.Entry
	for i := range entries {
		if path.Clean(entries[i].File) == p.dir {
			found = &entries[i] // the last mount on a directory is the one in effect
		}
	}
	o := obs{subject: p.dir, path: src, fields: map[string]value{"mounted": boolV(false)}}
	if found == nil && !h.Live() {
		// An image may mount the directory through a systemd mount unit
		// (tmp.mount) instead of fstab.
		if e, unit, err := mountUnit(ctx, h, p.dir); err != nil {
			return observation{}, err
		} else if e != nil {
			found, o.path = e, unit
		}
	}
	if found == nil {
		o.missing, o.gone = "not a separate mount (no entry in "+src+")", true
		return observation{obs: []obs{o}}, nil
	}
	o.line = found.Line
	o.fields["mounted"] = boolV(true)
	o.fields["options"] = listV(found.Options)
	o.fields["fstype"] = strV(found.VfsType)
	o.fields["source"] = strV(found.Spec)
	return observation{obs: []obs{o}}, nil
}

// mountUnit reads an enabled systemd mount unit for dir ("/var/tmp" →
// var-tmp.mount), as systemd names them.
func mountUnit(ctx context.Context, h checks.Host, dir string) (*fstab.Entry, string, error) {
	name := strings.ReplaceAll(strings.TrimPrefix(dir, "/"), "/", "-") + ".mount"
	if dir == "/" {
		name = "-.mount"
	}
	st, err := systemd.Unit(ctx, h, name)
	if err != nil {
		return nil, "", err
	}
	if !st.Enabled || st.Masked || st.Path == "" {
		return nil, "", nil
	}
	// The unit, then its drop-ins (NAME.d/*.conf in every unit directory,
	// a name in /etc hiding the same name further down, in name order),
	// as "systemctl edit" writes them.
	dirs := make([]string, len(systemd.UnitDirs))
	for i, d := range systemd.UnitDirs {
		dirs[i] = path.Join(d, name+".d")
	}
	more, err := dropins(ctx, h, dirs, ".conf")
	if err != nil {
		return nil, "", err
	}
	files, err := readAll(ctx, h, append([]string{st.Path}, more...))
	if err != nil {
		return nil, "", err
	}
	e := &fstab.Entry{File: dir}
	src := st.Path
	for _, ft := range files {
		if applyMountUnit(e, ft) {
			src = ft.path
		}
	}
	return e, src, nil
}

// applyMountUnit applies a unit file's [Mount] What, Type and Options to e
// ("%%" is a literal "%"), reporting whether it set Options.
func applyMountUnit(e *fstab.Entry, ft fileText) bool {
	set := false
	section := ""
	ft.lines(func(n int, line string) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = line
			return
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "[Mount]" {
			return
		}
		v = strings.ReplaceAll(strings.TrimSpace(v), "%%", "%")
		switch strings.TrimSpace(k) {
		case "What":
			e.Spec = v
		case "Type":
			e.VfsType = v
		case "Options":
			e.Options = strings.Split(v, ",")
			e.Line = n
			set = true
		}
	})
	return set
}

// ---- passwd and group ----

const (
	passwdPath = "/etc/passwd"
	groupPath  = "/etc/group"
)

type passwdEntry struct {
	name, password, home, shell string
	uid, gid                    int64
	line                        int
}

type groupEntry struct {
	name    string
	gid     int64
	members []string
	line    int
}

func loadPasswd(ctx context.Context, h checks.Host) ([]passwdEntry, error) {
	return checks.Memoized(h, "declarative.passwd", func() ([]passwdEntry, error) {
		data, err := h.ReadFile(ctx, passwdPath)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", passwdPath, err)
		}
		var out []passwdEntry
		var perr error
		fileText{path: passwdPath, data: string(data)}.lines(func(n int, line string) {
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") || perr != nil {
				return
			}
			if line[0] == '+' || line[0] == '-' {
				return // NIS compat entries (nss_compat) name no local account
			}
			f := strings.Split(line, ":")
			if len(f) != 7 {
				perr = &checks.SyntaxError{Path: passwdPath, Line: n, Msg: fmt.Sprintf("want 7 colon-separated fields, got %d", len(f))}
				return
			}
			out = append(out, passwdEntry{name: f[0], password: f[1], uid: atoi64(f[2]), gid: atoi64(f[3]), home: f[5], shell: f[6], line: n})
		})
		return out, perr
	})
}

func loadGroups(ctx context.Context, h checks.Host) ([]groupEntry, error) {
	return checks.Memoized(h, "declarative.group", func() ([]groupEntry, error) {
		data, err := h.ReadFile(ctx, groupPath)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", groupPath, err)
		}
		var out []groupEntry
		var perr error
		fileText{path: groupPath, data: string(data)}.lines(func(n int, line string) {
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") || perr != nil {
				return
			}
			if line[0] == '+' || line[0] == '-' {
				return
			}
			f := strings.Split(line, ":")
			if len(f) != 4 {
				perr = &checks.SyntaxError{Path: groupPath, Line: n, Msg: fmt.Sprintf("want 4 colon-separated fields, got %d", len(f))}
				return
			}
			var members []string
			if f[3] != "" {
				members = strings.Split(f[3], ",")
			}
			out = append(out, groupEntry{name: f[0], gid: atoi64(f[2]), members: members, line: n})
		})
		return out, perr
	})
}

// idNames maps uids and gids to the scanned system's names.
type idNames struct {
	users, groups map[int64]string
}

func (n *idNames) user(uid uint32) string {
	if s, ok := n.users[int64(uid)]; ok {
		return s
	}
	return strconv.FormatUint(uint64(uid), 10)
}

func (n *idNames) group(gid uint32) string {
	if s, ok := n.groups[int64(gid)]; ok {
		return s
	}
	return strconv.FormatUint(uint64(gid), 10)
}

// loadIDs reads the names; a system without /etc/passwd or /etc/group
// (a bare fixture) shows numbers, root as "root".
func loadIDs(ctx context.Context, h checks.Host) (*idNames, error) {
	return checks.Memoized(h, "declarative.ids", func() (*idNames, error) {
		n := &idNames{users: map[int64]string{0: "root"}, groups: map[int64]string{0: "root"}}
		// Names are for display: a malformed line (which the users
		// probe reports) must not stop every file check.
		users, err := loadPasswd(ctx, h)
		var se *checks.SyntaxError
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.As(err, &se) {
			return nil, err
		}
		// The first entry for an id names it, as getpwuid(3) finds.
		seen := map[int64]bool{}
		for _, u := range users {
			if !seen[u.uid] {
				seen[u.uid] = true
				n.users[u.uid] = u.name
			}
		}
		groups, err := loadGroups(ctx, h)
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.As(err, &se) {
			return nil, err
		}
		clear(seen)
		for _, g := range groups {
			if !seen[g.gid] {
				seen[g.gid] = true
				n.groups[g.gid] = g.name
			}
		}
		return n, nil
	})
}
