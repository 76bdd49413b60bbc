package luks

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks/parse/luks/lukstest"
)

const uuid2 = "3f2a1c9e-5b7d-4e21-9a0c-6d8e2f4b1a77"

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		want Header
	}{
		{
			name: "LUKS1 aes-xts 512",
			data: lukstest.LUKS1("aes", "xts-plain64", 64, "0b5e2c1a-7f3d-4a9e-8c21-5d6f7a8b9c0d", 0, 3),
			want: Header{Version: 1, UUID: "0b5e2c1a-7f3d-4a9e-8c21-5d6f7a8b9c0d",
				Segments: []Segment{{ID: "0", Type: "crypt", Cipher: "aes-xts-plain64", KeyBits: 512}},
				Keyslots: []Keyslot{{ID: "0", Type: "luks1", KeyBits: 512}, {ID: "3", Type: "luks1", KeyBits: 512}}},
		},
		{
			name: "LUKS1 aes-cbc-essiv 256 with trailing key material",
			data: append(lukstest.LUKS1("aes", "cbc-essiv:sha256", 32, "u1", 1), make([]byte, 4096)...),
			want: Header{Version: 1, UUID: "u1",
				Segments: []Segment{{ID: "0", Type: "crypt", Cipher: "aes-cbc-essiv:sha256", KeyBits: 256}},
				Keyslots: []Keyslot{{ID: "1", Type: "luks1", KeyBits: 256}}},
		},
		{
			name: "LUKS2 aes-xts 512",
			data: lukstest.LUKS2(uuid2, "root", lukstest.Metadata(lukstest.Volume{Cipher: "aes-xts-plain64", KeyBytes: 64})),
			want: Header{Version: 2, UUID: uuid2, Label: "root",
				Segments: []Segment{{ID: "0", Type: "crypt", Cipher: "aes-xts-plain64", KeyBits: 512}},
				Keyslots: []Keyslot{{ID: "0", Type: "luks2", KeyBits: 512, AreaCipher: "aes-xts-plain64", AreaKeyBits: 512}}},
		},
		{
			name: "LUKS2 keyslot area cipher is not the data cipher",
			data: lukstest.LUKS2(uuid2, "", lukstest.Metadata(lukstest.Volume{Cipher: "serpent-xts-plain64", KeyBytes: 32})),
			want: Header{Version: 2, UUID: uuid2,
				Segments: []Segment{{ID: "0", Type: "crypt", Cipher: "serpent-xts-plain64", KeyBits: 256}},
				Keyslots: []Keyslot{{ID: "0", Type: "luks2", KeyBits: 256, AreaCipher: "aes-xts-plain64", AreaKeyBits: 512}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseLUKS2Reencryption(t *testing.T) {
	t.Parallel()
	meta := `{"keyslots":{"0":{"type":"luks2","key_size":64,"area":{"type":"raw","encryption":"aes-xts-plain64","key_size":64}},
	"1":{"type":"luks2","key_size":32,"area":{"type":"raw","encryption":"aes-xts-plain64","key_size":64}},
	"2":{"type":"reencrypt","key_size":1,"area":{"type":"checksum"}}},
	"segments":{"0":{"type":"crypt","encryption":"aes-xts-plain64"},"1":{"type":"crypt","encryption":"aes-cbc-essiv:sha256"},
	"2":{"type":"crypt","encryption":"aes-cbc-essiv:sha256","flags":["backup-previous"]},
	"10":{"type":"crypt","encryption":"aes-xts-plain64","flags":["backup-final"]}},
	"digests":{"0":{"keyslots":["0"],"segments":["0","10"]},"1":{"keyslots":["1"],"segments":["1","2"]}}}`
	h, err := Parse(lukstest.LUKS2(uuid2, "", []byte(meta)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{
		{ID: "0", Type: "crypt", Cipher: "aes-xts-plain64", KeyBits: 512},
		{ID: "1", Type: "crypt", Cipher: "aes-cbc-essiv:sha256", KeyBits: 256},
	}
	if got := h.DataSegments(); !reflect.DeepEqual(got, want) {
		t.Errorf("DataSegments:\n got %+v\nwant %+v", got, want)
	}
	if len(h.Segments) != 4 || h.Segments[3].ID != "10" || !h.Segments[3].Backup {
		t.Errorf("Segments not in numeric order with backups marked: %+v", h.Segments)
	}
	if !h.Keyslots[2].Unbound || h.Keyslots[0].Unbound {
		t.Errorf("keyslot binding wrong: %+v", h.Keyslots)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	good2 := lukstest.LUKS2(uuid2, "", lukstest.Metadata(lukstest.Volume{Cipher: "aes-xts-plain64", KeyBytes: 64}))
	corrupt := bytes.Clone(good2)
	corrupt[5000] ^= 0xff
	badJSON := lukstest.LUKS2(uuid2, "", []byte(`{"segments":`))
	noSeg := lukstest.LUKS2(uuid2, "", []byte(`{"segments":{}}`))
	v3 := bytes.Clone(good2)
	v3[7] = 3
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, ErrNotLUKS.Error()},
		{"ext4 superblock", make([]byte, 2048), ErrNotLUKS.Error()},
		{"version 3", v3, "unsupported LUKS version 3"},
		{"LUKS1 truncated", lukstest.LUKS1("aes", "xts-plain64", 64, "u")[:300], "LUKS1 header truncated: 300 bytes, need 592"},
		{"LUKS1 zero key", lukstest.LUKS1("aes", "xts-plain64", 0, "u"), "implausible key size of 0 bytes"},
		{"LUKS1 no cipher", lukstest.LUKS1("", "xts-plain64", 64, "u"), "empty cipher name"},
		{"LUKS2 truncated", good2[:8192], "LUKS2 header truncated: 8192 bytes, hdr_size is 16384"},
		{"LUKS2 checksum", corrupt, "checksum mismatch"},
		{"LUKS2 bad JSON", badJSON, "LUKS2 JSON metadata"},
		{"LUKS2 no segment", noSeg, "no data segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := Parse(nil); !errors.Is(err, ErrNotLUKS) {
		t.Errorf("Parse(nil) = %v, want ErrNotLUKS", err)
	}
}

func TestParseDump(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want Header
	}{
		{"testdata/luks1.dump", Header{Version: 1, UUID: "0b5e2c1a-7f3d-4a9e-8c21-5d6f7a8b9c0d",
			Segments: []Segment{{ID: "0", Type: "crypt", Cipher: "aes-cbc-essiv:sha256", KeyBits: 256}},
			Keyslots: []Keyslot{{ID: "0", Type: "luks1", KeyBits: 256}, {ID: "2", Type: "luks1", KeyBits: 256}}}},
		{"testdata/luks2.dump", Header{Version: 2, UUID: uuid2,
			Segments: []Segment{{ID: "0", Type: "crypt", Cipher: "aes-xts-plain64", KeyBits: 512}},
			Keyslots: []Keyslot{
				{ID: "0", Type: "luks2", KeyBits: 512, AreaCipher: "aes-xts-plain64", AreaKeyBits: 512},
				{ID: "2", Type: "luks2", KeyBits: 256, AreaCipher: "aes-xts-plain64", AreaKeyBits: 512, Unbound: true},
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseDump(data)
			if err != nil {
				t.Fatalf("ParseDump: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseDump:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseDumpErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, out, want string }{
		{"not a dump", "Device /dev/vda2 is not a valid LUKS device.\n", "no Version line"},
		{"LUKS1 without cipher", "Version:\t1\nUUID:\tx\n", "no Cipher name or MK bits"},
		{"LUKS2 without segments", "Version:\t2\nData segments:\nKeyslots:\n", "no data segment"},
		{"bad key size", "Version:\t2\nData segments:\n  0: crypt\n\tcipher: aes-xts-plain64\nKeyslots:\n  0: luks2\n\tKey:        many bits\n", "line 7: key size"},
		{"disagreeing keyslots", "Version:\t2\nData segments:\n  0: crypt\nKeyslots:\n  0: luks2\n\tKey: 512 bits\n  1: luks2\n\tKey: 256 bits\n", "disagree"},
		{"version 3", "Version:\t3\n", "unsupported LUKS version 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseDump([]byte(tt.out))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseDump error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
