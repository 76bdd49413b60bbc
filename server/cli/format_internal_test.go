package cli

import (
	"bytes"
	"testing"
)

// Text from agents and scanned files cannot steer the operator's terminal.
func TestRowStripsControlCharacters(t *testing.T) {
	var b bytes.Buffer
	row(&b, "FAIL\x1b[2K\rPASS", "a\tb\nc", "bell\x07", "c1\u009b31m", "ok ü")
	if got, want := b.String(), "FAIL?[2K PASS\ta b c\tbell?\tc1?31m\tok ü\n"; got != want {
		t.Errorf("row = %q, want %q", got, want)
	}
}
