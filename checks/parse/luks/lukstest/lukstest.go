// Package lukstest builds LUKS1 and LUKS2 headers for tests: the bytes a
// real device starts with, minus key material, small enough to commit as
// fixture files.
package lukstest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// LUKS1 returns a 592-byte LUKS1 header with the cipher name and mode
// ("aes", "xts-plain64"), the volume key size in bytes, the UUID and the
// given keyslots active.
func LUKS1(cipherName, cipherMode string, keyBytes uint32, uuid string, activeSlots ...int) []byte {
	b := make([]byte, 592)
	copy(b, "LUKS\xba\xbe")
	binary.BigEndian.PutUint16(b[6:], 1)
	copy(b[8:40], cipherName)
	copy(b[40:72], cipherMode)
	copy(b[72:104], "sha256")
	binary.BigEndian.PutUint32(b[104:], 4096)
	binary.BigEndian.PutUint32(b[108:], keyBytes)
	binary.BigEndian.PutUint32(b[164:], 100000)
	copy(b[168:208], uuid)
	for i := range 8 {
		off := 208 + 48*i
		state := uint32(0x0000DEAD)
		for _, a := range activeSlots {
			if a == i {
				state = 0x00AC71F3
			}
		}
		binary.BigEndian.PutUint32(b[off:], state)
		binary.BigEndian.PutUint32(b[off+40:], uint32(8+i*512))
		binary.BigEndian.PutUint32(b[off+44:], 4000)
	}
	return b
}

// Volume describes the LUKS2 metadata Metadata generates: one crypt
// segment and one keyslot bound to it through digest 0.
type Volume struct {
	UUID   string
	Label  string
	Cipher string
	// KeyBytes is the volume key size in bytes (64 for AES-256-XTS).
	KeyBytes int
}

// Metadata returns LUKS2 JSON metadata for v, as cryptsetup writes it.
func Metadata(v Volume) []byte {
	meta := map[string]any{
		"keyslots": map[string]any{
			"0": map[string]any{
				"type": "luks2", "key_size": v.KeyBytes,
				"af":   map[string]any{"type": "luks1", "stripes": 4000, "hash": "sha256"},
				"area": map[string]any{"type": "raw", "offset": "32768", "size": "258048", "encryption": "aes-xts-plain64", "key_size": 64},
				"kdf":  map[string]any{"type": "argon2id", "time": 4, "memory": 1048576, "cpus": 4, "salt": "c2FsdA=="},
			},
		},
		"tokens": map[string]any{},
		"segments": map[string]any{
			"0": map[string]any{"type": "crypt", "offset": "16777216", "size": "dynamic", "iv_tweak": "0", "encryption": v.Cipher, "sector_size": 512},
		},
		"digests": map[string]any{
			"0": map[string]any{"type": "pbkdf2", "keyslots": []string{"0"}, "segments": []string{"0"}, "hash": "sha256", "iterations": 100000, "salt": "c2FsdA==", "digest": "ZGlnZXN0"},
		},
		"config": map[string]any{"json_size": "12288", "keyslots_size": "16744448"},
	}
	b, err := json.Marshal(meta)
	if err != nil {
		panic(fmt.Sprintf("lukstest: %v", err))
	}
	return b
}

// LUKS2 returns a LUKS2 primary header of 16 KiB (the default hdr_size):
// the 4 KiB binary header with a valid sha256 checksum, then the JSON
// metadata padded with zeros.
func LUKS2(uuid, label string, jsonMeta []byte) []byte {
	const hdrSize = 16384
	if len(jsonMeta) >= hdrSize-4096 {
		panic("lukstest: JSON metadata does not fit the 12 KiB area")
	}
	b := make([]byte, hdrSize)
	copy(b, "LUKS\xba\xbe")
	binary.BigEndian.PutUint16(b[6:], 2)
	binary.BigEndian.PutUint64(b[8:], hdrSize)
	binary.BigEndian.PutUint64(b[16:], 3)
	copy(b[24:72], label)
	copy(b[72:104], "sha256")
	copy(b[168:208], uuid)
	copy(b[4096:], jsonMeta)
	sum := sha256.Sum256(b)
	copy(b[448:], sum[:])
	return b
}
