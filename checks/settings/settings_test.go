package settings

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type netSection struct {
	URL      string `yaml:"url" doc:"where to connect"`
	MaxBytes Size   `yaml:"max_bytes" doc:"largest message"`
}

type testSettings struct {
	Name    string        `yaml:"name" doc:"a name"`
	Enabled bool          `yaml:"enabled" doc:"on or off"`
	Count   int           `yaml:"count"`
	Small   int8          `yaml:"small"`
	Wait    time.Duration `yaml:"wait" doc:"how long"`
	Limit   Size          `yaml:"limit"`
	Net     netSection    `yaml:"net"`
	Log     Log           `yaml:"log"`
	Skipped string        `yaml:"-"`
}

func defaults() testSettings {
	return testSettings{
		Name: "plumb", Enabled: true, Count: 3, Small: 1, Wait: time.Minute, Limit: 64 << 20,
		Net: netSection{URL: "nats://127.0.0.1:4222", MaxBytes: 1 << 20},
		Log: DefaultLog(),
	}
}

// validate mimics a config package's Validate method.
func (s *testSettings) validate() error {
	var errs Errors
	if s.Count > 10 {
		errs.Addf("count", "at most 10, got %d", s.Count)
	}
	if s.Wait > time.Hour {
		errs.Addf("wait", "at most 1h, got %s", FormatDuration(s.Wait))
	}
	s.Log.Validate(&errs, "log")
	return errs.Err()
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	src := `# a comment
name: "007"
enabled: false
count: 7
small: -3
wait: 90s
limit: 512KiB
net:
  url: nats://a:4222, nats://b:4222
  max_bytes: 2048
log: {level: debug, format: json}
`
	got := defaults()
	origins, err := Parse("s.yaml", []byte(src), &got)
	if err != nil {
		t.Fatal(err)
	}
	want := testSettings{
		Name: "007", Enabled: false, Count: 7, Small: -3, Wait: 90 * time.Second, Limit: 512 << 10,
		Net: netSection{URL: "nats://a:4222, nats://b:4222", MaxBytes: 2048},
		Log: Log{Level: "debug", Format: "json"},
	}
	if got != want {
		t.Errorf("Parse =\n%+v\nwant\n%+v", got, want)
	}
	wantOrigins := Origins{
		"name": {File: "s.yaml", Line: 2}, "enabled": {File: "s.yaml", Line: 3}, "count": {File: "s.yaml", Line: 4},
		"small": {File: "s.yaml", Line: 5}, "wait": {File: "s.yaml", Line: 6}, "limit": {File: "s.yaml", Line: 7},
		"net.url": {File: "s.yaml", Line: 9}, "net.max_bytes": {File: "s.yaml", Line: 10},
		"log.level": {File: "s.yaml", Line: 11}, "log.format": {File: "s.yaml", Line: 11},
	}
	if !reflect.DeepEqual(origins, wantOrigins) {
		t.Errorf("origins = %v\nwant %v", origins, wantOrigins)
	}
}

func TestParseKeepsDefaults(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]string{
		"empty file":          "",
		"comments only":       "# nothing set\n# name: x\n",
		"null document":       "~\n",
		"section all comment": "net:\n  # url: nats://x:4222\nlog:\n",
		"one key":             "count: 3\n",
		"alias":               "x: &n 3\ncount: *n\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := defaults()
			_, err := Parse("s.yaml", []byte(src), &got)
			if name == "alias" {
				// Unknown key x is reported, the alias itself resolves.
				if err == nil || !strings.Contains(err.Error(), "s.yaml:1: x: unknown key") {
					t.Fatalf("error %v, want unknown key x", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != defaults() {
				t.Errorf("settings changed: %+v", got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // every problem, in order
	}{
		{"unknown key near a known one", "nmae: x\n",
			[]string{"s.yaml:1: nmae: unknown key (did you mean name?)"}},
		{"unknown key abbreviating a known one", "net:\n  max_b: 1\n",
			[]string{"s.yaml:2: net.max_b: unknown key (did you mean net.max_bytes?)"}},
		{"unknown key in a section", "net:\n  server: x\n",
			[]string{"s.yaml:2: net.server: unknown key (net has url, max_bytes)"}},
		{"unknown top-level key lists the keys", "zzzzzz: 1\n",
			[]string{"s.yaml:1: zzzzzz: unknown key (the top level has name, enabled, count, small, wait, limit, net, log)"}},
		{"string given a bool", "name: true\n",
			[]string{"s.yaml:1: name: want a string, got true (quote it to mean the text)"}},
		{"string given nothing", "name:\n",
			[]string{`s.yaml:1: name: want a string, got no value (write "" for an empty one)`}},
		{"string given a list", "name: [a, b]\n",
			[]string{"s.yaml:1: name: want a string, got a list"}},
		{"bool given yes", "enabled: yes\n",
			[]string{`s.yaml:1: enabled: want true or false, got "yes"`}},
		{"int given a fraction", "count: 1.5\n",
			[]string{`s.yaml:1: count: want a whole number, got "1.5"`}},
		{"int given a string", "count: \"3\"\n",
			[]string{`s.yaml:1: count: want a whole number, got "3"`}},
		{"int8 overflow", "small: 300\n",
			[]string{"s.yaml:1: small: 300 is out of range for a whole number"}},
		{"duration without unit", "wait: 10\n",
			[]string{`s.yaml:1: wait: want a duration such as "500ms", "90s", "5m" or "1h", got "10"`}},
		{"duration in words", "wait: 1 hour\n",
			[]string{`s.yaml:1: wait: want a duration such as "500ms", "90s", "5m" or "1h", got "1 hour"`}},
		{"negative duration", "wait: -5s\n",
			[]string{`s.yaml:1: wait: want a duration such as "500ms", "90s", "5m" or "1h", got the negative "-5s"`}},
		{"duration given nothing", "wait: ~\n",
			[]string{`s.yaml:1: wait: want a duration such as "500ms", "90s", "5m" or "1h", got no value`}},
		{"size with a bad unit", "limit: 64M\n",
			[]string{`s.yaml:1: limit: want a size such as 1048576, "512KiB", "64MiB" or "1GB", got "64M" (units: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)`}},
		{"size too large", "limit: 9000000TiB\n",
			[]string{`s.yaml:1: limit: size "9000000TiB" is too large`}},
		{"size negative", "limit: -1\n",
			[]string{`s.yaml:1: limit: want a size such as 1048576, "512KiB", "64MiB" or "1GB", got "-1"`}},
		{"section given a scalar", "net: nats://x\n",
			[]string{`s.yaml:1: net: want a mapping of net settings, got "nats://x"`}},
		{"key given twice", "count: 1\ncount: 2\n",
			[]string{"s.yaml:2: count: given twice (first at line 1)"}},
		{"top level is a list", "- name: x\n",
			[]string{"s.yaml:1: want a mapping of settings (key: value), got a list"}},
		{"two documents", "count: 1\n---\ncount: 2\n",
			[]string{`s.yaml:2: more than one YAML document ("---"): a settings file is one document`}},
		{"invalid YAML", "count: 1\n  name: [\n",
			[]string{"s.yaml:2: not valid YAML: mapping values are not allowed in this context"}},
		{"every problem at once", "nmae: x\ncount: many\nnet:\n  url: true\n  max_bytes: lots\nwait: 1h\n",
			[]string{
				"s.yaml:1: nmae: unknown key (did you mean name?)",
				`s.yaml:2: count: want a whole number, got "many"`,
				"s.yaml:4: net.url: want a string, got true (quote it to mean the text)",
				`s.yaml:5: net.max_bytes: want a size such as 1048576, "512KiB", "64MiB" or "1GB", got "lots"`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := defaults()
			_, err := Parse("s.yaml", []byte(tt.src), &s)
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %v (%T), want Errors", err, err)
			}
			got := strings.Split(es.Error(), "\n")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseLeavesFailedKeysAtDefault(t *testing.T) {
	t.Parallel()
	s := defaults()
	_, err := Parse("s.yaml", []byte("count: many\nwait: 2m\n"), &s)
	if err == nil {
		t.Fatal("no error")
	}
	if s.Count != defaults().Count || s.Wait != 2*time.Minute {
		t.Errorf("count %d (want the default), wait %s (want 2m)", s.Count, s.Wait)
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     []string
		check   func(testSettings) bool
		origins Origins
		wantErr []string
	}{
		{
			name: "overrides at every level",
			env: []string{"PLUMBLINE_NAME=web", "PLUMBLINE_ENABLED=false", "PLUMBLINE_WAIT=2h30m",
				"PLUMBLINE_NET_URL=tls://n:4222", "PLUMBLINE_NET_MAX_BYTES=4MiB", "PLUMBLINE_LOG_LEVEL=warn", "PLUMBLINE_LIMIT=1000"},
			check: func(s testSettings) bool {
				return s.Name == "web" && !s.Enabled && s.Wait == 150*time.Minute && s.Net.URL == "tls://n:4222" &&
					s.Net.MaxBytes == 4<<20 && s.Log.Level == "warn" && s.Limit == 1000
			},
			origins: Origins{"name": {Env: "PLUMBLINE_NAME"}, "enabled": {Env: "PLUMBLINE_ENABLED"}, "wait": {Env: "PLUMBLINE_WAIT"},
				"net.url": {Env: "PLUMBLINE_NET_URL"}, "net.max_bytes": {Env: "PLUMBLINE_NET_MAX_BYTES"},
				"log.level": {Env: "PLUMBLINE_LOG_LEVEL"}, "limit": {Env: "PLUMBLINE_LIMIT"}},
		},
		{
			name:    "empty value sets an empty string",
			env:     []string{"PLUMBLINE_NAME="},
			check:   func(s testSettings) bool { return s.Name == "" },
			origins: Origins{"name": {Env: "PLUMBLINE_NAME"}},
		},
		{
			name:    "other variables and the allow list are ignored",
			env:     []string{"HOME=/root", "PLUMBLINE_CONFIG=/x.yaml", "plumbline_name=lower", "PATH=/bin", "NOEQUALS"},
			check:   func(s testSettings) bool { return s == defaults() },
			origins: Origins{},
		},
		{
			name:    "the last of two entries wins",
			env:     []string{"PLUMBLINE_COUNT=4", "PLUMBLINE_COUNT=5"},
			check:   func(s testSettings) bool { return s.Count == 5 },
			origins: Origins{"count": {Env: "PLUMBLINE_COUNT"}},
		},
		{
			name: "bad values name the variable, all of them, sorted",
			env:  []string{"PLUMBLINE_WAIT=soon", "PLUMBLINE_COUNT=1.5", "PLUMBLINE_ENABLED=maybe", "PLUMBLINE_NET_MAX_BYTES=huge"},
			wantErr: []string{
				`environment PLUMBLINE_COUNT: count: want a whole number, got "1.5"`,
				`environment PLUMBLINE_ENABLED: enabled: want true or false, got "maybe"`,
				`environment PLUMBLINE_NET_MAX_BYTES: net.max_bytes: want a size such as 1048576, "512KiB", "64MiB" or "1GB", got "huge"`,
				`environment PLUMBLINE_WAIT: wait: want a duration such as "500ms", "90s", "5m" or "1h", got "soon"`,
			},
		},
		{
			name: "unknown variables are typos",
			env:  []string{"PLUMBLINE_NET_URLS=x", "PLUMBLINE_NOTHING_LIKE_IT=1"},
			wantErr: []string{
				"environment PLUMBLINE_NET_URLS: names no setting (did you mean PLUMBLINE_NET_URL?)",
				"environment PLUMBLINE_NOTHING_LIKE_IT: names no setting",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := defaults()
			src := Source{Path: filepath.Join(t.TempDir(), "absent.yaml"), Env: tt.env,
				EnvPrefix: "PLUMBLINE_", EnvAllow: []string{"PLUMBLINE_CONFIG"}}
			origins, err := Load(&s, src, nil)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.wantErr) {
					t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(tt.wantErr, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(s) {
				t.Errorf("settings %+v", s)
			}
			if !reflect.DeepEqual(origins, tt.origins) {
				t.Errorf("origins %v, want %v", origins, tt.origins)
			}
		})
	}
}

func TestEnvWithoutPrefixIsOff(t *testing.T) {
	t.Parallel()
	s := defaults()
	if _, err := Load(&s, Source{Path: filepath.Join(t.TempDir(), "x.yaml"), Env: []string{"NAME=x", "PLUMBLINE_NAME=y"}}, nil); err != nil {
		t.Fatal(err)
	}
	if s != defaults() {
		t.Errorf("settings changed without an env prefix: %+v", s)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(file, []byte("count: 12\nwait: 2h\nname: from-file\nlog:\n  level: loud\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		src      Source
		wantErr  []string
		wantName string
	}{
		{
			name:     "missing default file means defaults",
			src:      Source{Path: filepath.Join(dir, "absent.yaml")},
			wantName: "plumb",
		},
		{
			name:    "missing explicit file is an error",
			src:     Source{Path: filepath.Join(dir, "absent.yaml"), Explicit: true},
			wantErr: []string{"read settings file: open " + filepath.Join(dir, "absent.yaml") + ": no such file or directory"},
		},
		{
			name: "validation errors point at the line or variable",
			src:  Source{Path: file, Env: []string{"PLUMBLINE_WAIT=3h", "PLUMBLINE_LOG_FORMAT=xml"}, EnvPrefix: "PLUMBLINE_"},
			wantErr: []string{
				file + ":1: count: at most 10, got 12",
				file + ":5: log.level: want debug, info, warn or error, got \"loud\"",
				"environment PLUMBLINE_LOG_FORMAT: log.format: want text or json, got \"xml\"",
				"environment PLUMBLINE_WAIT: wait: at most 1h, got 3h",
			},
		},
		{
			name: "a key that failed to load is not validated too",
			src:  Source{Path: file, Env: []string{"PLUMBLINE_COUNT=lots", "PLUMBLINE_WAIT=1m", "PLUMBLINE_LOG_LEVEL=info"}, EnvPrefix: "PLUMBLINE_"},
			wantErr: []string{
				`environment PLUMBLINE_COUNT: count: want a whole number, got "lots"`,
			},
		},
		{
			name:     "environment beats the file",
			src:      Source{Path: file, Explicit: true, Env: []string{"PLUMBLINE_NAME=from-env", "PLUMBLINE_COUNT=1", "PLUMBLINE_WAIT=1m", "PLUMBLINE_LOG_LEVEL=info"}, EnvPrefix: "PLUMBLINE_"},
			wantName: "from-env",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := defaults()
			_, err := Load(&s, tt.src, s.validate)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.wantErr) {
					t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(tt.wantErr, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != tt.wantName {
				t.Errorf("name %q, want %q", s.Name, tt.wantName)
			}
		})
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := defaults()
	// A directory where the file should be is not "missing": say so even
	// when the path is the default one.
	_, err := Load(&s, Source{Path: dir}, nil)
	if err == nil || !strings.Contains(err.Error(), "read settings file") {
		t.Fatalf("error %v, want a read error", err)
	}
}

func TestLocateKeepsOtherErrors(t *testing.T) {
	t.Parallel()
	o := Origins{"a": {File: "f.yaml", Line: 3}}
	got := o.Locate(errors.New("plain"))
	if len(got) != 1 || got.Error() != "plain" {
		t.Errorf("Locate(plain) = %v", got)
	}
	es := Errors{{Key: "a", Msg: "bad"}, {Key: "b", Msg: "worse"}, {File: "g.yaml", Line: 1, Key: "a", Msg: "kept"}}
	want := "f.yaml:3: a: bad\nb: worse\ng.yaml:1: a: kept"
	if got := o.Locate(es).Error(); got != want {
		t.Errorf("Locate = %q, want %q", got, want)
	}
	if o.Locate(nil) != nil {
		t.Error("Locate(nil) is not nil")
	}
	var none Errors
	if none.Err() != nil {
		t.Error("empty Errors.Err() is not nil")
	}
}

func TestErrorsUnwrap(t *testing.T) {
	t.Parallel()
	var err error = Errors{{Key: "a", Msg: "x"}, {Env: "PLUMBLINE_B", Key: "b", Msg: "y"}}
	var one Error
	if !errors.As(err, &one) || one.Key != "a" {
		t.Errorf("errors.As found %+v", one)
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Size
		str     string
		wantErr bool
	}{
		{"0", 0, "0", false},
		{"1000", 1000, "1KB", false},
		{"1024", 1024, "1KiB", false},
		{"1500", 1500, "1500", false},
		{"512KiB", 512 << 10, "512KiB", false},
		{"64MiB", 64 << 20, "64MiB", false},
		{"64mib", 64 << 20, "64MiB", false},
		{"64 MiB", 64 << 20, "64MiB", false},
		{"1GB", 1e9, "1GB", false},
		{"3GiB", 3 << 30, "3GiB", false},
		{"2TiB", 2 << 40, "2TiB", false},
		{"5B", 5, "5", false},
		{" 7 ", 7, "7", false},
		{"1.5GiB", 0, "", true},
		{"64M", 0, "", true},
		{"MiB", 0, "", true},
		{"", 0, "", true},
		{"-1", 0, "", true},
		{"0x10", 0, "", true},
		{"9223372036854775808", 0, "", true},
		{"8388608TiB", 0, "", true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseSize(%q) error %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if got != tt.want || got.String() != tt.str {
			t.Errorf("ParseSize(%q) = %d %q, want %d %q", tt.in, got, got.String(), tt.want, tt.str)
		}
		if back, err := ParseSize(got.String()); err != nil || back != got {
			t.Errorf("ParseSize(%q) = %d, %v: does not read back", got.String(), back, err)
		}
	}
}

func TestSizeUnmarshalYAML(t *testing.T) {
	t.Parallel()
	var v struct {
		A Size `yaml:"a"`
		B Size `yaml:"b"`
	}
	if err := yaml.Unmarshal([]byte("a: 4MiB\nb: 2048\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 4<<20 || v.B != 2048 {
		t.Errorf("got %+v", v)
	}
	if err := yaml.Unmarshal([]byte("a: [1]\n"), &v); err == nil {
		t.Error("a list decoded as a Size")
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{500 * time.Millisecond, "500ms"},
		{90 * time.Second, "1m30s"},
		{5 * time.Minute, "5m"},
		{time.Hour, "1h"},
		{2*time.Hour + 30*time.Minute, "2h30m"},
		{26*time.Hour + 1500*time.Millisecond, "26h1s500ms"},
		{1500 * time.Microsecond, "1.5ms"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
		if back, err := ParseDuration(FormatDuration(tt.d)); err != nil || back != tt.d {
			t.Errorf("ParseDuration(%q) = %v, %v", FormatDuration(tt.d), back, err)
		}
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	got := Fields(defaults(), "PLUMBLINE_")
	want := []Field{
		{"name", "PLUMBLINE_NAME", "string", `"plumb"`, "a name"},
		{"enabled", "PLUMBLINE_ENABLED", "bool", "true", "on or off"},
		{"count", "PLUMBLINE_COUNT", "int", "3", ""},
		{"small", "PLUMBLINE_SMALL", "int", "1", ""},
		{"wait", "PLUMBLINE_WAIT", "duration", "1m", "how long"},
		{"limit", "PLUMBLINE_LIMIT", "size", "64MiB", ""},
		{"net.url", "PLUMBLINE_NET_URL", "string", `"nats://127.0.0.1:4222"`, "where to connect"},
		{"net.max_bytes", "PLUMBLINE_NET_MAX_BYTES", "size", "1MiB", "largest message"},
		{"log.level", "PLUMBLINE_LOG_LEVEL", "string", `"info"`, "least severe messages logged: debug, info, warn or error"},
		{"log.format", "PLUMBLINE_LOG_FORMAT", "string", `"text"`, "text (logfmt-like key=value lines) or json (one object per line)"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fields =\n%+v\nwant\n%+v", got, want)
	}
	// Every rendered value reads back as the value it came from.
	var sb strings.Builder
	section := ""
	for _, f := range got {
		if k, v, ok := strings.Cut(f.Key, "."); ok {
			if k != section {
				sb.WriteString(k + ":\n")
				section = k
			}
			sb.WriteString("  " + v + ": " + f.Value + "\n")
		} else {
			sb.WriteString(f.Key + ": " + f.Value + "\n")
		}
	}
	var back testSettings
	if _, err := Parse("rendered", []byte(sb.String()), &back); err != nil {
		t.Fatalf("rendered values do not parse: %v\n%s", err, sb.String())
	}
	if back != defaults() {
		t.Errorf("rendered values read back as %+v", back)
	}
	if p := Fields(new(testSettings), "X_"); p[0].Env != "X_NAME" {
		t.Errorf("Fields(pointer) = %+v", p[0])
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteTable(&b, Fields(defaults(), "PLUMBLINE_")); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 11 || !strings.HasPrefix(lines[0], "KEY") ||
		!strings.Contains(lines[5], "wait") || !strings.Contains(lines[5], "1m") || !strings.Contains(lines[5], "PLUMBLINE_WAIT") {
		t.Errorf("table:\n%s", b.String())
	}
}

func TestMalformedStructsPanic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"no yaml tag", &struct{ A string }{}, "has no yaml tag"},
		{"unsupported type", &struct {
			A []string `yaml:"a"`
		}{}, "is not supported"},
		{"variable collision", &struct {
			AB string `yaml:"a_b"`
			A  struct {
				B string `yaml:"b"`
			} `yaml:"a"`
		}{}, "both map to the variable suffix A_B"},
		{"not a pointer", struct{}{}, "want a non-nil pointer to a struct"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				p := recover()
				if p == nil || !strings.Contains(p.(string), tt.want) {
					t.Errorf("panic %v, want %q", p, tt.want)
				}
			}()
			Parse("x", nil, tt.v)
		})
	}
}

func TestSkippedFields(t *testing.T) {
	t.Parallel()
	type withHidden struct {
		A      string `yaml:"a"`
		hidden string
		B      string `yaml:"-"`
	}
	v := withHidden{hidden: "kept"}
	if _, err := Parse("s.yaml", []byte("a: x\n"), &v); err != nil || v.A != "x" || v.hidden != "kept" {
		t.Fatalf("Parse = %+v, %v", v, err)
	}
	for _, key := range []string{"hidden", "b", "B", "-"} {
		if _, err := Parse("s.yaml", []byte(key+": y\n"), &v); err == nil {
			t.Errorf("%s is settable", key)
		}
	}
	if f := Fields(v, ""); len(f) != 1 || f[0].Key != "a" {
		t.Errorf("Fields = %+v", f)
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	var errs Errors
	DefaultLog().Validate(&errs, "log")
	Log{Level: "debug", Format: "json"}.Validate(&errs, "log")
	if len(errs) != 0 {
		t.Errorf("valid log settings rejected: %v", errs)
	}
	Log{Level: "verbose", Format: "xml"}.Validate(&errs, "log")
	if want := "log.level: want debug, info, warn or error, got \"verbose\"\nlog.format: want text or json, got \"xml\""; errs.Error() != want {
		t.Errorf("errors %q, want %q", errs.Error(), want)
	}

	var b bytes.Buffer
	h := Log{Level: "warn", Format: "json"}.Handler(&b)
	l := slog.New(h)
	l.Info("hidden")
	l.Warn("shown", "seq", 3)
	if out := b.String(); strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) || !strings.Contains(out, `"seq":3`) {
		t.Errorf("json warn handler wrote %q", out)
	}
	b.Reset()
	slog.New(DefaultLog().Handler(&b)).Info("hello", "k", "v")
	if out := b.String(); !strings.Contains(out, "level=INFO msg=hello k=v") {
		t.Errorf("text handler wrote %q", out)
	}
}

func TestCheckURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" for valid
	}{
		{"nats://127.0.0.1:4222", ""},
		{"nats://a:4222, tls://b:4222,nats://c", ""},
		{"", "want at least one URL"},
		{"127.0.0.1:4222", `"127.0.0.1:4222": want a URL starting with nats:// or tls://`},
		{"http://a:4222", `"http://a:4222": want a URL starting with nats:// or tls://`},
		{"nats://a:4222,", `"": want a URL starting with nats:// or tls://`},
		{"nats://:4222", `"nats://:4222": the URL has no host`},
		{"nats://a b:4222", `"nats://a b:4222" is not a URL`},
		{"nats://a;b:4222", `"nats://a;b:4222": "a;b" is not a host name or address`},
		{"nats://[::1]:4222", ""},
	}
	for _, tt := range tests {
		err := CheckURLs(tt.in, "nats", "tls")
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckHostPort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		valid bool
	}{
		{"127.0.0.1:8080", true},
		{"0.0.0.0:4222", true},
		{":8080", true},
		{"[::1]:0", true},
		{"localhost:65535", true},
		{"localhost", false},
		{"host:http", false},
		{"host:65536", false},
		{"host:-1", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := CheckHostPort(tt.in); (err == nil) != tt.valid {
			t.Errorf("CheckHostPort(%q) = %v, want valid %v", tt.in, err, tt.valid)
		}
	}
}

func TestGetenv(t *testing.T) {
	t.Parallel()
	env := []string{"A=1", "B=", "A=2", "C"}
	if Getenv(env, "A") != "2" || Getenv(env, "B") != "" || Getenv(env, "C") != "" || Getenv(env, "D") != "" {
		t.Error("Getenv")
	}
	if EnvName("PLUMBLINE_", "spool.max_bytes") != "PLUMBLINE_SPOOL_MAX_BYTES" {
		t.Error("EnvName")
	}
}
