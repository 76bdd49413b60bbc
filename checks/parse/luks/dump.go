package luks

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ParseDump parses the text `cryptsetup luksDump DEVICE` prints, for LUKS1
// ("Cipher name:", "Cipher mode:", "MK bits:") and LUKS2 ("Data segments:"
// and "Keyslots:" sections). It is the way to read a header on a live host,
// where the device is a block device that checks.Host cannot read in part.
func ParseDump(out []byte) (Header, error) {
	var (
		h                Header
		cipherName, mode string
		mkBits           int
		section          string
		seg              *Segment
		slot             *Keyslot
		haveVersion      bool
		segments         []*Segment
		slots            []*Keyslot
	)
	for i, line := range strings.Split(string(out), "\n") {
		n := i + 1
		if strings.TrimSpace(line) == "" {
			continue
		}
		// Section headers and top-level fields start in column one.
		if line[0] != ' ' && line[0] != '\t' {
			key, val, _ := strings.Cut(line, ":")
			val = strings.TrimSpace(val)
			section = ""
			switch key {
			case "Version":
				v, err := strconv.Atoi(val)
				if err != nil {
					return Header{}, fmt.Errorf("luksDump line %d: version %q is not a number", n, val)
				}
				h.Version, haveVersion = v, true
			case "UUID":
				h.UUID = val
			case "Label":
				if val != "(no label)" {
					h.Label = val
				}
			case "Cipher name":
				cipherName = val
			case "Cipher mode":
				mode = val
			case "MK bits":
				v, err := strconv.Atoi(val)
				if err != nil {
					return Header{}, fmt.Errorf("luksDump line %d: MK bits %q is not a number", n, val)
				}
				mkBits = v
			case "Data segments", "Keyslots", "Tokens", "Digests":
				section = key
			}
			if strings.HasPrefix(line, "Key Slot ") && strings.HasSuffix(val, "ENABLED") {
				id := strings.TrimPrefix(key, "Key Slot ")
				slots = append(slots, &Keyslot{ID: id, Type: "luks1"})
			}
			continue
		}
		// Items of a LUKS2 section: "  0: crypt", attributes: "\tcipher: ...".
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "\t") {
			id, typ, ok := strings.Cut(strings.TrimSpace(line), ":")
			if !ok {
				continue
			}
			typ = strings.TrimSpace(typ)
			switch section {
			case "Data segments":
				seg = &Segment{ID: id, Type: typ}
				segments = append(segments, seg)
			case "Keyslots":
				typ, unbound := strings.CutSuffix(typ, " (unbound)")
				slot = &Keyslot{ID: id, Type: typ, Unbound: unbound}
				slots = append(slots, slot)
			}
			continue
		}
		key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch section {
		case "Data segments":
			if seg == nil {
				continue
			}
			switch key {
			case "cipher":
				seg.Cipher = val
			case "flags":
				for f := range strings.SplitSeq(val, ",") {
					if strings.HasPrefix(strings.TrimSpace(f), "backup-") {
						seg.Backup = true
					}
				}
			}
		case "Keyslots":
			if slot == nil {
				continue
			}
			switch key {
			case "Key":
				bits, err := parseBits(val)
				if err != nil {
					return Header{}, fmt.Errorf("luksDump line %d: %w", n, err)
				}
				slot.KeyBits = bits
			case "Cipher":
				slot.AreaCipher = val
			case "Cipher key":
				bits, err := parseBits(val)
				if err != nil {
					return Header{}, fmt.Errorf("luksDump line %d: %w", n, err)
				}
				slot.AreaKeyBits = bits
			}
		}
	}
	if !haveVersion {
		return Header{}, errors.New("not cryptsetup luksDump output: no Version line")
	}
	switch h.Version {
	case 1:
		if cipherName == "" || mkBits == 0 {
			return Header{}, errors.New("luksDump of LUKS1: no Cipher name or MK bits line")
		}
		cipher := cipherName
		if mode != "" {
			cipher += "-" + mode
		}
		h.Segments = []Segment{{ID: "0", Type: "crypt", Cipher: cipher, KeyBits: mkBits}}
		for _, s := range slots {
			s.KeyBits = mkBits
			h.Keyslots = append(h.Keyslots, *s)
		}
	case 2:
		if len(segments) == 0 {
			return Header{}, errors.New("luksDump of LUKS2: no data segment")
		}
		// The dump does not say which segment a keyslot serves; every
		// bound keyslot unlocks the one volume key of the data segments.
		keyBits := 0
		for _, s := range slots {
			if s.Unbound || s.KeyBits == 0 {
				continue
			}
			if keyBits != 0 && keyBits != s.KeyBits {
				return Header{}, fmt.Errorf("luksDump of LUKS2: bound keyslots disagree on the volume key size (%d and %d bits)", keyBits, s.KeyBits)
			}
			keyBits = s.KeyBits
		}
		for _, s := range segments {
			if !s.Backup {
				s.KeyBits = keyBits
			}
			h.Segments = append(h.Segments, *s)
		}
		for _, s := range slots {
			h.Keyslots = append(h.Keyslots, *s)
		}
	default:
		return Header{}, fmt.Errorf("unsupported LUKS version %d", h.Version)
	}
	return h, nil
}

// parseBits parses "512 bits".
func parseBits(s string) (int, error) {
	num, unit, _ := strings.Cut(s, " ")
	v, err := strconv.Atoi(num)
	if err != nil || strings.TrimSpace(unit) != "bits" {
		return 0, fmt.Errorf("key size %q: want \"N bits\"", s)
	}
	return v, nil
}
