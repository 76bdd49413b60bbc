package loader

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

var sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidPin reports whether s is a sha256 as sha256sum prints it.
func ValidPin(s string) bool { return sha256Pattern.MatchString(s) }

// ParseLockFile reads pins in sha256sum's output format, one plugin a line:
// "<sha256>  <file name>", so that `sha256sum * > plugins.lock` in the
// plugin directory writes one. Blank lines and # comments are ignored.
func ParseLockFile(path string, data []byte) (map[string]string, error) {
	pins := map[string]string{}
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			errs = append(errs, fmt.Errorf("%s:%d: want \"<sha256>  <plugin file name>\", got %q", path, n, line))
			continue
		}
		sum, name := strings.ToLower(f[0]), strings.TrimPrefix(f[1], "*")
		switch {
		case !ValidPin(sum):
			errs = append(errs, fmt.Errorf("%s:%d: %q is not a sha256 (64 hex digits)", path, n, f[0]))
		case strings.Contains(name, "/"):
			errs = append(errs, fmt.Errorf("%s:%d: %q: give the file name inside the plugin directory, not a path", path, n, name))
		case pins[name] != "":
			errs = append(errs, fmt.Errorf("%s:%d: %s pinned twice", path, n, name))
		default:
			pins[name] = sum
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", path, err))
	}
	return pins, errors.Join(errs...)
}

// checkDir refuses a plugin directory that someone other than root (or the
// agent's own user) could change: the directory and every directory above
// it must not be writable by group or others, except sticky ones such as
// /tmp. The path is resolved component by component as the kernel would, so
// that the directories a symbolic link leads through are checked as well
// as those holding the link (and the link itself).
func checkDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("plugin directory %s: %w", dir, err)
	}
	// check vets one directory the walk looks a name up in; last is the
	// plugin directory itself, which may not be sticky and writable.
	check := func(p string, last bool) error {
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("plugin directory %s: %w", abs, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("plugin directory %s: %s is not a directory", abs, p)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if !trustedOwner(st.Uid) {
			return fmt.Errorf("plugin directory %s: %s is owned by uid %d; it must be owned by root or the agent's user", abs, p, st.Uid)
		}
		writable := fi.Mode().Perm()&0o022 != 0
		sticky := fi.Mode()&fs.ModeSticky != 0
		// A sticky directory (such as /tmp) is fine above us: its other
		// users cannot rename or remove our entry, whose owner is checked
		// on the way down like every other component's.
		if writable && (last || !sticky) {
			return fmt.Errorf("plugin directory %s: %s is writable by group or others (mode %04o); run chmod go-w %s", abs, p, fi.Mode().Perm(), p)
		}
		return nil
	}
	cur := "/"
	if err := check(cur, false); err != nil {
		return err
	}
	rest := strings.TrimLeft(abs, "/")
	for links := 0; rest != ""; {
		var comp string
		comp, rest, _ = strings.Cut(rest, "/")
		switch comp {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, comp)
		fi, err := os.Lstat(next)
		if err != nil {
			return fmt.Errorf("plugin directory: %w", err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			// Whoever owns the link can point it elsewhere.
			if uid := fi.Sys().(*syscall.Stat_t).Uid; !trustedOwner(uid) {
				return fmt.Errorf("plugin directory %s: %s is a symbolic link owned by uid %d; it must be owned by root or the agent's user", abs, next, uid)
			}
			if links++; links > 40 {
				return fmt.Errorf("plugin directory %s: too many levels of symbolic links", abs)
			}
			target, err := os.Readlink(next)
			if err != nil {
				return fmt.Errorf("plugin directory %s: %w", abs, err)
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			rest = strings.TrimLeft(target+"/"+rest, "/")
			continue
		}
		if err := check(next, false); err != nil {
			return err
		}
		cur = next
	}
	return check(cur, true)
}

func trustedOwner(uid uint32) bool {
	return uid == 0 || int(uid) == os.Geteuid()
}

// openVerified opens a plugin binary, checks its ownership and mode on the
// open file, and hashes exactly the bytes that will run: the returned file
// is what the agent executes (through /proc/self/fd), so the binary cannot
// be swapped between verification and launch.
func openVerified(path, pin string) (*os.File, string, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, "", fmt.Errorf("%s is a symbolic link: copy the plugin binary into the plugin directory", path)
		}
		return nil, "", fmt.Errorf("open %s: %w", path, &fs.PathError{Op: "open", Path: path, Err: err})
	}
	// A high descriptor number keeps it clear of the ones exec sets up.
	hi, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 100)
	unix.Close(fd)
	if err != nil {
		return nil, "", fmt.Errorf("open %s: %w", path, err)
	}
	f := os.NewFile(uintptr(hi), path)
	fail := func(format string, args ...any) (*os.File, string, error) {
		f.Close()
		return nil, "", fmt.Errorf(format, args...)
	}
	fi, err := f.Stat()
	if err != nil {
		return fail("stat %s: %w", path, err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.Mode().IsRegular():
		return fail("%s is not a regular file", path)
	case !trustedOwner(st.Uid):
		return fail("%s is owned by uid %d; a plugin must be owned by root or the agent's user", path, st.Uid)
	case fi.Mode().Perm()&0o022 != 0:
		return fail("%s is writable by group or others (mode %04o); run chmod go-w %s", path, fi.Mode().Perm(), path)
	case fi.Mode().Perm()&0o100 == 0:
		return fail("%s is not executable by its owner (mode %04o)", path, fi.Mode().Perm())
	}
	sum, err := hashFile(f)
	if err != nil {
		return fail("hash %s: %w", path, err)
	}
	if pin != "" && sum != pin {
		return fail("%s: sha256 %s does not match the pinned %s; refusing to launch it (re-pin only if you trust the new binary)", path, sum, pin)
	}
	return f, sum, nil
}

// hashFile hashes f from its current offset; large reads, as plugin
// binaries are tens of megabytes and hashing is on every launch.
func hashFile(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, make([]byte, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileSHA256 returns the sha256 of a file, for printing pins.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum, err := hashFile(f)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return sum, nil
}

// discovered is one plugin the configuration names, with why it cannot be
// launched if it cannot.
type discovered struct {
	name, path, pin string
	err             error
}

// discover matches the plugin directory against the pins. Every pinned name
// is returned (with an error when its file is missing or the directory is
// unsafe); a file in the directory that is not pinned is returned with an
// error too, so that it shows in the report instead of being ignored.
func discover(dir string, pins map[string]string) []discovered {
	var out []discovered
	names := slices.Sorted(maps.Keys(pins))
	dirErr := checkDir(dir)
	present := map[string]bool{}
	if dirErr == nil {
		entries, err := os.ReadDir(dir)
		if err != nil {
			dirErr = fmt.Errorf("plugin directory: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".lock") {
				continue
			}
			present[e.Name()] = true
			if _, ok := pins[e.Name()]; !ok {
				out = append(out, discovered{name: e.Name(), path: filepath.Join(dir, e.Name()),
					err: fmt.Errorf("%s is not pinned; it was not launched. To run it, add its sha256 to the lock file (sha256sum %s >> LOCK_FILE)", filepath.Join(dir, e.Name()), filepath.Join(dir, e.Name()))})
			}
		}
	}
	for _, name := range names {
		d := discovered{name: name, path: filepath.Join(dir, name), pin: pins[name]}
		switch {
		case dirErr != nil:
			d.err = dirErr
		case !present[name]:
			d.err = fmt.Errorf("pinned plugin %s: no such file in %s", name, dir)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b discovered) int { return strings.Compare(a.name, b.name) })
	return out
}
