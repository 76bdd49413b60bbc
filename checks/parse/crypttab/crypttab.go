// Package crypttab parses crypttab(5): one encrypted volume per line, as
// name, source device, key file and comma-separated options.
package crypttab

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/fstab"
)

// Entry is one volume in crypttab.
type Entry struct {
	// Name is the device-mapper name the volume is opened as
	// (/dev/mapper/<Name>).
	Name string `json:"name"`
	// Device is the source device as written: a path or a
	// UUID=/PARTUUID=/LABEL=/PARTLABEL= spec.
	Device string `json:"device"`
	// KeyFile is the third field; empty when absent, "-" or "none"
	// (the passphrase is asked for).
	KeyFile string   `json:"key_file,omitempty"`
	Options []Option `json:"options,omitempty"`
	// Line is the 1-based line number in the file.
	Line int `json:"line"`
}

// Option is one crypttab option: a flag ("luks", "swap") or a key=value
// pair ("cipher=aes-xts-plain64").
type Option struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
	// HasValue distinguishes "key=" from "key".
	HasValue bool `json:"has_value,omitempty"`
}

// String renders the option as written.
func (o Option) String() string {
	if o.HasValue {
		return o.Key + "=" + o.Value
	}
	return o.Key
}

// Has reports whether option key is present.
func (e Entry) Has(key string) bool {
	_, ok := e.Value(key)
	return ok
}

// Value returns the value of option key; the last occurrence wins.
func (e Entry) Value(key string) (string, bool) {
	val, found := "", false
	for _, o := range e.Options {
		if o.Key == key {
			val, found = o.Value, true
		}
	}
	return val, found
}

// RandomKey reports whether the volume is keyed from a random source on
// every boot, so that its contents do not survive a reboot.
func (e Entry) RandomKey() bool {
	switch e.KeyFile {
	case "/dev/urandom", "/dev/random", "/dev/hw_random":
		return true
	}
	return false
}

// Read reads and parses the file at path on h once per scan.
func Read(ctx context.Context, h checks.Host, path string) ([]Entry, error) {
	return checks.Memoized(h, "crypttab.Read "+path, func() ([]Entry, error) {
		data, err := h.ReadFile(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return Parse(path, data)
	})
}

// numericOptions take a non-negative integer; a value that is not one
// makes systemd-cryptsetup and cryptdisks refuse the line.
var numericOptions = map[string]bool{
	"size": true, "sector-size": true, "key-slot": true, "keyslot": true,
	"keyfile-size": true, "keyfile-offset": true, "offset": true, "skip": true,
	"tries": true,
}

// valueOptions must carry a non-empty value.
var valueOptions = map[string]bool{
	"cipher": true, "hash": true, "header": true, "keyscript": true,
}

// Parse parses crypttab data; path is used in errors. Blank lines and lines
// starting with '#' are skipped; fields may contain octal escapes ("\040")
// as in fstab. Options not known to this parser are kept as written: Debian
// and systemd each accept options the other does not.
func Parse(path string, data []byte) ([]Entry, error) {
	var out []Entry
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return nil, &checks.SyntaxError{Path: path, Line: n, Msg: fmt.Sprintf("want name and device, got %d field(s)", len(fields))}
		}
		if len(fields) > 4 {
			return nil, &checks.SyntaxError{Path: path, Line: n, Msg: fmt.Sprintf("want at most 4 fields (name device keyfile options), got %d", len(fields))}
		}
		for j, f := range fields {
			v, err := fstab.Unescape(f)
			if err != nil {
				return nil, &checks.SyntaxError{Path: path, Line: n, Msg: fmt.Sprintf("field %d: %v", j+1, err)}
			}
			fields[j] = v
		}
		e := Entry{Name: fields[0], Device: fields[1], Line: n}
		if strings.Contains(e.Name, "/") {
			return nil, &checks.SyntaxError{Path: path, Line: n, Msg: fmt.Sprintf("volume name %q contains '/'", e.Name)}
		}
		if len(fields) > 2 && fields[2] != "-" && fields[2] != "none" {
			e.KeyFile = fields[2]
		}
		if len(fields) > 3 {
			opts, err := parseOptions(fields[3])
			if err != nil {
				return nil, &checks.SyntaxError{Path: path, Line: n, Msg: err.Error()}
			}
			e.Options = opts
		}
		out = append(out, e)
	}
	return out, nil
}

func parseOptions(s string) ([]Option, error) {
	var out []Option
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			// systemd and cryptdisks both skip empty items ("luks,,discard").
			continue
		}
		k, v, hasValue := strings.Cut(item, "=")
		if k == "" {
			return nil, fmt.Errorf("option %q has no name", item)
		}
		if numericOptions[k] {
			if !hasValue {
				return nil, fmt.Errorf("option %s needs a value", k)
			}
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				return nil, fmt.Errorf("option %s: want a non-negative number, got %q", k, v)
			}
		}
		if valueOptions[k] && v == "" {
			return nil, fmt.Errorf("option %s needs a value", k)
		}
		out = append(out, Option{Key: k, Value: v, HasValue: hasValue})
	}
	return out, nil
}
