package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// logBuffer collects log output; safe for the spool's concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func open(t *testing.T, dir string, opts Options) (*Spool, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, logs
}

func seqs(t *testing.T, s *Spool) []uint64 {
	t.Helper()
	items, err := s.Items()
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for _, it := range items {
		out = append(out, it.Seq)
	}
	return out
}

func payload(seq uint64, size int) []byte {
	p := []byte(fmt.Sprintf("report %d ", seq))
	for len(p) < size {
		p = append(p, '.')
	}
	return p[:size]
}

// reportFiles lists the report files actually in the directory.
func reportFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestOrderAcrossReopen(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "spool") // Open creates it
	s, _ := open(t, dir, Options{})
	// Out of order, and across a power of ten, to show that order is
	// numeric, not the order of Put.
	for _, seq := range []uint64{10, 2, 9, 1, 100, 18446744073709551615} {
		if err := s.Put(seq, payload(seq, 50)); err != nil {
			t.Fatal(err)
		}
	}
	want := []uint64{1, 2, 9, 10, 100, 18446744073709551615}
	if got := seqs(t, s); !slices.Equal(got, want) {
		t.Errorf("items %v, want %v", got, want)
	}

	again, _ := open(t, dir, Options{})
	if got := seqs(t, again); !slices.Equal(got, want) {
		t.Errorf("after reopen: items %v, want %v", got, want)
	}
	if again.Len() != 6 || again.Bytes() != 300 || again.Dropped() != 0 {
		t.Errorf("after reopen: len %d bytes %d dropped %d", again.Len(), again.Bytes(), again.Dropped())
	}
	items, _ := again.Items()
	for _, it := range items {
		data, err := again.Read(it)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, payload(it.Seq, 50)) || it.Size != 50 || filepath.Dir(it.Path) != dir {
			t.Errorf("item %+v reads %q", it, data)
		}
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("spool dir mode %v, %v; want 0700", info.Mode().Perm(), err)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        Options
		sizes       []int // one Put per size, sequences 1, 2, ...
		wantSeqs    []uint64
		wantDropped uint64
		wantLimit   string
	}{
		{"by count", Options{MaxReports: 3}, []int{10, 10, 10, 10, 10}, []uint64{3, 4, 5}, 2, "limit=max_reports"},
		{"by bytes", Options{MaxBytes: 100}, []int{40, 40, 40, 40}, []uint64{3, 4}, 2, "limit=max_bytes"},
		{"a big one pushes out several", Options{MaxBytes: 100}, []int{30, 30, 30, 90}, []uint64{4}, 3, "limit=max_bytes"},
		{"exactly at both limits", Options{MaxBytes: 30, MaxReports: 3}, []int{10, 10, 10}, []uint64{1, 2, 3}, 0, ""},
		{"defaults", Options{}, []int{10, 10}, []uint64{1, 2}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s, logs := open(t, dir, tt.opts)
			var total int64
			for i, size := range tt.sizes {
				if err := s.Put(uint64(i+1), payload(uint64(i+1), size)); err != nil {
					t.Fatal(err)
				}
			}
			if got := seqs(t, s); !slices.Equal(got, tt.wantSeqs) {
				t.Errorf("items %v, want %v", got, tt.wantSeqs)
			}
			for _, seq := range tt.wantSeqs {
				total += int64(tt.sizes[seq-1])
			}
			if s.Len() != len(tt.wantSeqs) || s.Bytes() != total || s.Dropped() != tt.wantDropped {
				t.Errorf("len %d bytes %d dropped %d; want %d %d %d", s.Len(), s.Bytes(), s.Dropped(), len(tt.wantSeqs), total, tt.wantDropped)
			}
			if files := reportFiles(t, dir); len(files) != len(tt.wantSeqs) {
				t.Errorf("files on disk %v, want %d", files, len(tt.wantSeqs))
			}
			warns := strings.Count(logs.String(), "level=WARN msg=\"spool full: dropped the oldest report\"")
			if uint64(warns) != tt.wantDropped {
				t.Errorf("%d drop warnings, want %d:\n%s", warns, tt.wantDropped, logs.String())
			}
			for seq := uint64(1); seq <= tt.wantDropped; seq++ {
				if !strings.Contains(logs.String(), fmt.Sprintf(" sequence=%d ", seq)) {
					t.Errorf("drop of %d not logged with its sequence:\n%s", seq, logs.String())
				}
			}
			if tt.wantLimit != "" && !strings.Contains(logs.String(), tt.wantLimit) {
				t.Errorf("log does not name %s:\n%s", tt.wantLimit, logs.String())
			}
		})
	}
}

func TestPutRefuses(t *testing.T) {
	t.Parallel()
	s, _ := open(t, t.TempDir(), Options{MaxBytes: 100})
	if err := s.Put(1, payload(1, 60)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"larger than the spool", payload(2, 101), "spool report 2: 101 bytes is more than the spool's limit of 100"},
		{"empty", nil, "spool report 2: empty"},
	}
	for _, tt := range tests {
		err := s.Put(2, tt.data)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	// A refused report drops nothing.
	if got := seqs(t, s); !slices.Equal(got, []uint64{1}) || s.Dropped() != 0 {
		t.Errorf("after refusals: items %v, dropped %d", got, s.Dropped())
	}
}

func TestPutSameSequenceReplaces(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := open(t, dir, Options{})
	s.Put(7, payload(7, 10))
	s.Put(7, payload(7, 25))
	items, _ := s.Items()
	if len(items) != 1 || items[0].Size != 25 || s.Bytes() != 25 {
		t.Fatalf("items %+v, bytes %d", items, s.Bytes())
	}
	if data, _ := s.Read(items[0]); len(data) != 25 {
		t.Errorf("read %d bytes, want the replacement's 25", len(data))
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := open(t, dir, Options{})
	for seq := uint64(1); seq <= 3; seq++ {
		s.Put(seq, payload(seq, 10))
	}
	items, _ := s.Items()
	if err := s.Remove(2); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(2); err != nil {
		t.Errorf("removing an absent report: %v", err)
	}
	if err := s.Remove(99); err != nil {
		t.Errorf("removing an unknown report: %v", err)
	}
	if got := seqs(t, s); !slices.Equal(got, []uint64{1, 3}) || s.Bytes() != 20 {
		t.Errorf("items %v bytes %d", got, s.Bytes())
	}
	// A snapshot taken before the removal reads as gone, recognisably.
	if _, err := s.Read(items[1]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read of a removed report: %v, want fs.ErrNotExist", err)
	}
	again, _ := open(t, dir, Options{})
	if got := seqs(t, again); !slices.Equal(got, []uint64{1, 3}) {
		t.Errorf("after reopen: items %v", got)
	}
}

func TestReadStaysInsideTheSpool(t *testing.T) {
	t.Parallel()
	s, _ := open(t, t.TempDir(), Options{})
	s.Put(1, payload(1, 10))
	data, err := s.Read(Item{Seq: 1, Path: "/etc/passwd"})
	if err != nil || !bytes.Equal(data, payload(1, 10)) {
		t.Errorf("Read with a foreign path = %q, %v; want the spooled report", data, err)
	}
}

func TestOpenRepairsCrashLeftovers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(fileName(5), "report five")
	write(fileName(3), "report three")
	write(".tmp-123456", "half a rep")     // a Put that crashed before its rename
	write("notes.txt", "someone's notes")  // not ours: keep it, but not here
	write("42.report", "unpadded")         // would sort wrongly; not a name Put writes
	write(fileName(4)+".orig", "a backup") // not ours either
	write(fileName(6), "")                 // empty: cannot be a report
	if err := os.Mkdir(filepath.Join(dir, fileName(7)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, BadDir), 0o700); err != nil {
		t.Fatal(err)
	}
	// An earlier quarantine of a file with the same name must survive.
	if err := os.WriteFile(filepath.Join(dir, BadDir, "notes.txt"), []byte("older notes"), 0o600); err != nil {
		t.Fatal(err)
	}

	s, logs := open(t, dir, Options{})
	if got := seqs(t, s); !slices.Equal(got, []uint64{3, 5}) {
		t.Errorf("items %v, want [3 5]", got)
	}
	if s.Bytes() != int64(len("report five")+len("report three")) {
		t.Errorf("bytes %d", s.Bytes())
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-123456")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unfinished write still there: %v", err)
	}
	wantBad := map[string]string{
		"notes.txt":           "older notes",
		"notes.txt.1":         "someone's notes",
		"42.report":           "unpadded",
		fileName(4) + ".orig": "a backup",
		fileName(6):           "",
	}
	for name, content := range wantBad {
		data, err := os.ReadFile(filepath.Join(dir, BadDir, name))
		if err != nil || string(data) != content {
			t.Errorf("bad/%s = %q, %v; want %q", name, data, err, content)
		}
		if _, err := os.Stat(filepath.Join(dir, name)); name != "notes.txt" && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still in the spool", name)
		}
	}
	if info, err := os.Stat(filepath.Join(dir, BadDir, fileName(7))); err != nil || !info.IsDir() {
		t.Errorf("directory named like a report not set aside: %v", err)
	}
	out := logs.String()
	for _, want := range []string{
		`level=WARN msg="spool: set aside a file that is not a report" file=notes.txt`,
		`file=42.report reason="name is not <sequence>.report"`,
		`file=` + fileName(6) + ` reason="report is empty"`,
		`file=` + fileName(7) + ` reason="not a regular file"`,
		`msg="spool: removed an unfinished write"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}

	// Nothing left to repair: a second Open changes nothing.
	again, logs2 := open(t, dir, Options{})
	if got := seqs(t, again); !slices.Equal(got, []uint64{3, 5}) || logs2.String() != "" {
		t.Errorf("second open: items %v, log %q", got, logs2.String())
	}
}

func TestOpenAppliesShrunkLimits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := open(t, dir, Options{})
	for seq := uint64(1); seq <= 5; seq++ {
		s.Put(seq, payload(seq, 10))
	}
	smaller, logs := open(t, dir, Options{MaxReports: 2})
	if got := seqs(t, smaller); !slices.Equal(got, []uint64{4, 5}) || smaller.Dropped() != 3 {
		t.Errorf("items %v dropped %d, want [4 5] and 3", got, smaller.Dropped())
	}
	if !strings.Contains(logs.String(), "sequence=1 ") {
		t.Errorf("drop at open not logged:\n%s", logs.String())
	}
	if files := reportFiles(t, dir); len(files) != 2 {
		t.Errorf("files %v", files)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o600)
	tests := []struct {
		name string
		dir  string
		opts Options
		want string
	}{
		{"negative bytes", t.TempDir(), Options{MaxBytes: -1}, "negative limits"},
		{"negative count", t.TempDir(), Options{MaxReports: -1}, "negative limits"},
		{"not a directory", file, Options{}, "open spool"},
	}
	for _, tt := range tests {
		if _, err := Open(tt.dir, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestConcurrent puts, reads and removes from many goroutines; with -race
// it checks the locking, and at the end the index must match the disk.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := open(t, dir, Options{MaxReports: 20, MaxBytes: 20 * 64})
	const writers, perWriter = 8, 50
	var writersWG, senderWG sync.WaitGroup
	for w := range writers {
		writersWG.Go(func() {
			for i := range perWriter {
				seq := uint64(w*perWriter + i + 1)
				if err := s.Put(seq, payload(seq, 32+int(seq%32))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// A sender reads what is there and removes it, as the daemon does,
	// while the writers' drops remove items under it.
	done := make(chan struct{})
	removed := 0
	senderWG.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			items, _ := s.Items()
			for _, it := range items[:len(items)/2] {
				if _, err := s.Read(it); err != nil && !errors.Is(err, fs.ErrNotExist) {
					t.Error(err)
				}
				if err := s.Remove(it.Seq); err != nil {
					t.Error(err)
				}
				removed++
			}
			_ = s.Len() + int(s.Bytes()) + int(s.Dropped())
		}
	})
	writersWG.Wait()
	close(done)
	senderWG.Wait()
	if removed == 0 {
		t.Log("the sender removed nothing; the test exercised Put alone")
	}

	items, _ := s.Items()
	var total int64
	for _, it := range items {
		total += it.Size
	}
	if s.Len() != len(items) || s.Bytes() != total || len(items) > 20 || total > 20*64 {
		t.Errorf("len %d bytes %d; items %d totalling %d", s.Len(), s.Bytes(), len(items), total)
	}
	if files := reportFiles(t, dir); len(files) != len(items) {
		t.Errorf("%d files on disk, %d in the index", len(files), len(items))
	}
	if !slices.IsSortedFunc(items, func(a, b Item) int { return cmpSeq(a.Seq, b.Seq) }) {
		t.Error("items out of order")
	}
	again, _ := open(t, dir, Options{MaxReports: 20, MaxBytes: 20 * 64})
	if got := seqs(t, again); !slices.Equal(got, seqs(t, s)) {
		t.Errorf("reopen sees %v, spool had %v", got, seqs(t, s))
	}
}
