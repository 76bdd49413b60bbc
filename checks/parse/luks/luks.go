// Package luks reads LUKS1 and LUKS2 headers: which cipher and volume key
// size protect the data, without any key material. It parses either the
// on-disk header bytes (Parse) or the text of `cryptsetup luksDump`
// (ParseDump), for hosts whose block devices can only be read that way.
package luks

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
)

// Header is what a LUKS header says about how the data is encrypted.
type Header struct {
	// Version is 1 or 2.
	Version int    `json:"version"`
	UUID    string `json:"uuid"`
	// Label is LUKS2 only.
	Label string `json:"label,omitempty"`
	// Segments are the encrypted data areas; LUKS1 has exactly one.
	Segments []Segment `json:"segments"`
	Keyslots []Keyslot `json:"keyslots,omitempty"`
}

// Segment is one data area and the cipher protecting it.
type Segment struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Cipher is the dm-crypt cipher specification, "aes-xts-plain64".
	Cipher string `json:"cipher"`
	// KeyBits is the volume key size in bits (512 for AES-256 in XTS
	// mode, whose key is two AES keys); 0 when no keyslot reveals it.
	KeyBits int `json:"key_bits"`
	// Backup marks LUKS2 reencryption bookkeeping segments, which hold no
	// live data.
	Backup bool `json:"backup,omitempty"`
}

// Keyslot is one active keyslot.
type Keyslot struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// KeyBits is the size of the volume key the slot unlocks.
	KeyBits int `json:"key_bits"`
	// AreaCipher and AreaKeyBits protect the keyslot's own key material
	// (LUKS2 only); they are not the data cipher.
	AreaCipher  string `json:"area_cipher,omitempty"`
	AreaKeyBits int    `json:"area_key_bits,omitempty"`
	// Unbound slots hold a key not assigned to any data segment.
	Unbound bool `json:"unbound,omitempty"`
}

// DataSegments returns the segments holding live data.
func (h Header) DataSegments() []Segment {
	var out []Segment
	for _, s := range h.Segments {
		if !s.Backup {
			out = append(out, s)
		}
	}
	return out
}

// magic is the LUKS (and LUKS2 primary header) signature.
var magic = []byte{'L', 'U', 'K', 'S', 0xba, 0xbe}

// ErrNotLUKS means the data does not start with a LUKS header.
var ErrNotLUKS = errors.New("no LUKS header (magic LUKS\\xba\\xbe not found)")

// Sizes of the on-disk structures.
const (
	luks1HeaderSize = 592
	luks2BinSize    = 4096
	// luks2MaxHdrSize is the largest metadata area LUKS2 allows (4 MiB).
	luks2MaxHdrSize = 4 << 20
)

// Parse parses the header at the start of a LUKS device or detached
// header file. data must hold at least the header: 592 bytes for LUKS1,
// hdr_size bytes (binary header and JSON area, 16 KiB by default) for LUKS2.
func Parse(data []byte) (Header, error) {
	if len(data) < 8 || !bytes.Equal(data[:6], magic) {
		return Header{}, ErrNotLUKS
	}
	switch v := binary.BigEndian.Uint16(data[6:8]); v {
	case 1:
		return parseLUKS1(data)
	case 2:
		return parseLUKS2(data)
	default:
		return Header{}, fmt.Errorf("unsupported LUKS version %d", v)
	}
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// LUKS1 on-disk layout (all integers big-endian), from the LUKS1
// specification: magic[6] version u16 cipher-name[32] cipher-mode[32]
// hash-spec[32] payload-offset u32 key-bytes u32 mk-digest[20]
// mk-digest-salt[32] mk-digest-iter u32 uuid[40] then 8 keyslots of 48
// bytes (active u32, iterations u32, salt[32], key-material-offset u32,
// stripes u32).
const (
	luks1KeyslotActive = 0x00AC71F3
	luks1Keyslots      = 8
)

func parseLUKS1(data []byte) (Header, error) {
	if len(data) < luks1HeaderSize {
		return Header{}, fmt.Errorf("LUKS1 header truncated: %d bytes, need %d", len(data), luks1HeaderSize)
	}
	name, mode := cstring(data[8:40]), cstring(data[40:72])
	keyBytes := binary.BigEndian.Uint32(data[108:112])
	if name == "" {
		return Header{}, errors.New("LUKS1 header has an empty cipher name")
	}
	if keyBytes == 0 || keyBytes > 1024 {
		return Header{}, fmt.Errorf("LUKS1 header has an implausible key size of %d bytes", keyBytes)
	}
	cipher := name
	if mode != "" {
		cipher += "-" + mode
	}
	bits := int(keyBytes) * 8
	h := Header{
		Version:  1,
		UUID:     cstring(data[168:208]),
		Segments: []Segment{{ID: "0", Type: "crypt", Cipher: cipher, KeyBits: bits}},
	}
	for i := range luks1Keyslots {
		off := 208 + 48*i
		if binary.BigEndian.Uint32(data[off:off+4]) == luks1KeyslotActive {
			h.Keyslots = append(h.Keyslots, Keyslot{ID: strconv.Itoa(i), Type: "luks1", KeyBits: bits})
		}
	}
	return h, nil
}

// LUKS2 binary header layout (big-endian), from the LUKS2 on-disk format
// specification: magic[6] version u16 hdr_size u64 seqid u64 label[48]
// checksum_alg[32] salt[64] uuid[40] subsystem[48] hdr_offset u64
// padding[184] csum[64] padding[3584], then the JSON area up to hdr_size.
const (
	luks2OffHdrSize = 8
	luks2OffLabel   = 24
	luks2OffCsumAlg = 72
	luks2OffUUID    = 168
	luks2OffCsum    = 448
	luks2CsumLen    = 64
)

// luks2JSON is the part of the LUKS2 metadata that describes encryption.
// Numbers that may exceed 2^53 are strings in LUKS2; key sizes are not.
type luks2JSON struct {
	Keyslots map[string]struct {
		Type    string `json:"type"`
		KeySize int    `json:"key_size"`
		Area    struct {
			Type       string `json:"type"`
			Encryption string `json:"encryption"`
			KeySize    int    `json:"key_size"`
		} `json:"area"`
	} `json:"keyslots"`
	Segments map[string]struct {
		Type       string   `json:"type"`
		Encryption string   `json:"encryption"`
		Flags      []string `json:"flags"`
	} `json:"segments"`
	Digests map[string]struct {
		Keyslots []string `json:"keyslots"`
		Segments []string `json:"segments"`
	} `json:"digests"`
}

func parseLUKS2(data []byte) (Header, error) {
	if len(data) < luks2BinSize {
		return Header{}, fmt.Errorf("LUKS2 header truncated: %d bytes, need at least %d", len(data), luks2BinSize)
	}
	hdrSize := binary.BigEndian.Uint64(data[luks2OffHdrSize:])
	if hdrSize < 2*luks2BinSize || hdrSize > luks2MaxHdrSize || hdrSize%luks2BinSize != 0 {
		return Header{}, fmt.Errorf("LUKS2 header has an invalid hdr_size %d", hdrSize)
	}
	if uint64(len(data)) < hdrSize {
		return Header{}, fmt.Errorf("LUKS2 header truncated: %d bytes, hdr_size is %d", len(data), hdrSize)
	}
	area := data[:hdrSize]
	if err := verifyChecksum(area); err != nil {
		return Header{}, err
	}
	raw := area[luks2BinSize:]
	if i := bytes.IndexByte(raw, 0); i >= 0 {
		raw = raw[:i]
	}
	var meta luks2JSON
	if err := json.Unmarshal(raw, &meta); err != nil {
		return Header{}, fmt.Errorf("LUKS2 JSON metadata: %w", err)
	}
	h := Header{
		Version: 2,
		UUID:    cstring(data[luks2OffUUID : luks2OffUUID+40]),
		Label:   cstring(data[luks2OffLabel : luks2OffLabel+48]),
	}
	// A keyslot unlocks the volume key of the segments its digest covers.
	segKeyBits := map[string]int{}
	bound := map[string]bool{}
	for _, id := range sortedIDs(meta.Digests) {
		d := meta.Digests[id]
		for _, ks := range d.Keyslots {
			slot, ok := meta.Keyslots[ks]
			if !ok || slot.KeySize <= 0 {
				continue
			}
			for _, seg := range d.Segments {
				bound[ks] = true
				if _, seen := segKeyBits[seg]; !seen {
					segKeyBits[seg] = slot.KeySize * 8
				}
			}
		}
	}
	for _, id := range sortedIDs(meta.Segments) {
		s := meta.Segments[id]
		backup := slices.ContainsFunc(s.Flags, func(f string) bool { return strings.HasPrefix(f, "backup-") })
		h.Segments = append(h.Segments, Segment{ID: id, Type: s.Type, Cipher: s.Encryption, KeyBits: segKeyBits[id], Backup: backup})
	}
	if len(h.Segments) == 0 {
		return Header{}, errors.New("LUKS2 metadata has no data segment")
	}
	for _, id := range sortedIDs(meta.Keyslots) {
		s := meta.Keyslots[id]
		h.Keyslots = append(h.Keyslots, Keyslot{
			ID: id, Type: s.Type, KeyBits: s.KeySize * 8,
			AreaCipher: s.Area.Encryption, AreaKeyBits: s.Area.KeySize * 8,
			Unbound: !bound[id],
		})
	}
	return h, nil
}

// verifyChecksum checks the LUKS2 header checksum: the digest of the whole
// metadata area with the checksum field zeroed.
func verifyChecksum(area []byte) error {
	alg := cstring(area[luks2OffCsumAlg : luks2OffCsumAlg+32])
	var hh hash.Hash
	switch alg {
	case "sha256":
		hh = sha256.New()
	case "sha512":
		hh = sha512.New()
	case "sha1":
		hh = sha1.New()
	default:
		return fmt.Errorf("LUKS2 header checksum algorithm %q not supported", alg)
	}
	hh.Write(area[:luks2OffCsum])
	hh.Write(make([]byte, luks2CsumLen))
	hh.Write(area[luks2OffCsum+luks2CsumLen:])
	sum := hh.Sum(nil)
	if !bytes.Equal(sum, area[luks2OffCsum:luks2OffCsum+len(sum)]) {
		return errors.New("LUKS2 header checksum mismatch: header corrupt or partly written")
	}
	return nil
}

// sortedIDs returns LUKS2 object ids ("0", "1", ..., "10") in numeric order.
func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		na, ea := strconv.Atoi(a)
		nb, eb := strconv.Atoi(b)
		if ea == nil && eb == nil {
			return na - nb
		}
		return strings.Compare(a, b)
	})
	return ids
}
