package diskcrypt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/checks/parse/blockdev"
	"github.com/plumbline/plumbline/checks/parse/crypttab"
	"github.com/plumbline/plumbline/checks/parse/luks"
)

func init() { checks.Register(cipherCheck{}) }

type cipherCheck struct{}

func (cipherCheck) Meta() checks.Meta {
	minBits, maxBits := checks.IntRange(128, 4096)
	return checks.Meta{
		ID:       "diskcrypt.luks_aes256",
		Title:    "Encrypted volumes use AES-256 (aes-xts-plain64 with a 512-bit key)",
		Family:   "diskcrypt",
		Severity: checks.SeverityHigh,
		Rationale: "The promise is AES-256. In XTS mode the volume key is two AES keys, so AES-256 needs a " +
			"512-bit key; a 256-bit XTS key is AES-128, and older setups used aes-cbc-essiv with weaker " +
			"properties. LUKS2 adds header checksums, Argon2 key derivation and online re-encryption.",
		Remediation: "Back up the header ('cryptsetup luksHeaderBackup /dev/<part> --header-backup-file <file>'), " +
			"then re-encrypt in place: 'cryptsetup reencrypt --cipher aes-xts-plain64 --key-size 512 /dev/<part>' " +
			"(LUKS2, works while the volume is open). Convert LUKS1 first, with the volume closed: " +
			"'cryptsetup convert --type luks2 /dev/<part>' (GRUB before 2.12 cannot unlock LUKS2 for an encrypted /boot). " +
			"For plain mappings set 'cipher=aes-xts-plain64,size=512' in /etc/crypttab.",
		References: []checks.Reference{measure},
		Params: []checks.ParamSpec{
			{Name: "allowed_ciphers", Kind: checks.KindStringList, Default: []string{"aes-xts-plain64"},
				Doc: "dm-crypt cipher specifications accepted for data segments, as cryptsetup writes them."},
			{Name: "min_key_bits", Kind: checks.KindInt, Default: 512, Min: minBits, Max: maxBits,
				Doc: "Smallest volume key size in bits; 512 is AES-256 in XTS mode."},
			{Name: "require_luks2", Kind: checks.KindBool, Default: false,
				Doc: "Fail LUKS1 volumes; when false they pass with a note recommending LUKS2."},
		},
	}
}

// cipherPolicy is the check's parameters.
type cipherPolicy struct {
	allowed      []string
	minKeyBits   int
	requireLUKS2 bool
}

func (c cipherPolicy) cipherOK(cipher string) bool {
	return slices.ContainsFunc(c.allowed, func(a string) bool { return strings.EqualFold(a, cipher) })
}

func (cipherCheck) Run(ctx context.Context, h checks.Host, p checks.Params) checks.Result {
	pol := cipherPolicy{allowed: p.StringList("allowed_ciphers"), minKeyBits: p.Int("min_key_bits"), requireLUKS2: p.Bool("require_luks2")}
	topo, stop := readTopology(ctx, h)
	if stop != nil {
		return *stop
	}
	var mappings []*blockdev.Device
	for _, d := range topo.Devices() {
		if isCryptMapping(d) {
			mappings = append(mappings, d)
		}
	}
	if len(mappings) == 0 {
		return checks.NotApplicable("no dm-crypt mappings are open")
	}
	// crypttab is needed for plain mappings and detached headers; a
	// broken one only matters to the mappings that need it.
	entries, ctErr := crypttab.Read(ctx, h, "/etc/crypttab")
	byName := map[string]crypttab.Entry{}
	for _, e := range entries {
		byName[e.Name] = e
	}
	var t tally
	for _, d := range mappings {
		e, inCrypttab := byName[d.DMName]
		switch typ := d.CryptType(); typ {
		case "LUKS1", "LUKS2":
			judgeLUKS(ctx, h, topo, d, e, inCrypttab, ctErr, pol, &t)
		case "PLAIN":
			judgePlain(d, e, inCrypttab, ctErr, pol, &t)
		default:
			t.add(checks.Evidence{Key: d.DMName + " cipher", Expected: "one of " + strings.Join(pol.allowed, ", ")},
				d.DMName, undecided(fmt.Sprintf("cannot determine the cipher of %s mapping %s: only LUKS and plain mappings are inspected", typ, d.DMName)))
		}
	}
	return t.result(fmt.Sprintf("all %d dm-crypt mapping(s) use %s with keys of at least %d bits", len(mappings), strings.Join(pol.allowed, " or "), pol.minKeyBits),
		"weak or disallowed encryption: ")
}

func judgeLUKS(ctx context.Context, h checks.Host, topo *blockdev.Topology, d *blockdev.Device, e crypttab.Entry, inCrypttab bool, ctErr error, pol cipherPolicy, t *tally) {
	name := d.DMName
	cipherEv := checks.Evidence{Key: name + " cipher", Expected: "one of " + strings.Join(pol.allowed, ", ")}
	var src string
	if hdr, ok := e.Value("header"); inCrypttab && ok {
		src = hdr
		if !strings.HasPrefix(src, "/") || strings.Contains(src, ":") {
			t.add(cipherEv, name, undecided(fmt.Sprintf("detached header %q (/etc/crypttab:%d) is not a plain path", hdr, e.Line)))
			return
		}
	} else {
		backing, err := backingDevice(topo, d)
		if err != nil {
			t.add(cipherEv, name, undecided(err.Error()))
			return
		}
		src = "/dev/" + backing.Name
	}
	cipherEv.Path = src
	hdr, err := readHeader(ctx, h, src)
	if err != nil {
		why := fmt.Sprintf("cannot read the LUKS header of %s from %s: %v", name, src, err)
		if errors.Is(err, luks.ErrNotLUKS) && ctErr != nil && !errors.Is(ctErr, fs.ErrNotExist) {
			why += fmt.Sprintf(" (a detached header may be configured in /etc/crypttab, which is unreadable: %v)", ctErr)
		}
		t.add(cipherEv, name, undecided(why))
		return
	}
	if want := d.CryptUUID(); want != "" && strings.ReplaceAll(strings.ToLower(hdr.UUID), "-", "") != want {
		t.add(cipherEv, name, undecided(fmt.Sprintf("the header on %s has UUID %s, but mapping %s was opened from LUKS UUID %s", src, hdr.UUID, name, want)))
		return
	}
	ver := fmt.Sprintf("LUKS%d", hdr.Version)
	if ver != d.CryptType() {
		t.add(cipherEv, name, undecided(fmt.Sprintf("the header on %s is %s, but mapping %s is %s", src, ver, name, d.CryptType())))
		return
	}
	for _, seg := range hdr.DataSegments() {
		what := name
		if len(hdr.DataSegments()) > 1 {
			what = name + " segment " + seg.ID
		}
		cipherEv.Key = what + " cipher"
		t.add(cipherEv, what+" cipher "+seg.Cipher, sourceVerdict{ok: pol.cipherOK(seg.Cipher), actual: seg.Cipher})
		keyEv := checks.Evidence{Key: what + " key size", Expected: fmt.Sprintf(">= %d bits", pol.minKeyBits), Path: src}
		if seg.KeyBits == 0 {
			t.add(keyEv, what, undecided("no keyslot of "+src+" reveals the volume key size"))
		} else {
			t.add(keyEv, what+" key "+strconv.Itoa(seg.KeyBits)+" bits", sourceVerdict{ok: seg.KeyBits >= pol.minKeyBits, actual: fmt.Sprintf("%d bits", seg.KeyBits)})
		}
	}
	fmtEv := checks.Evidence{Key: name + " format", Expected: "LUKS2", Path: src}
	switch {
	case hdr.Version == 2:
		t.add(fmtEv, name, sourceVerdict{ok: true, actual: "LUKS2"})
	case pol.requireLUKS2:
		t.add(fmtEv, name+" is LUKS1", sourceVerdict{actual: "LUKS1"})
	default:
		fmtEv.Expected = "LUKS2 preferred (require_luks2 is off)"
		t.add(fmtEv, name, sourceVerdict{ok: true, actual: "LUKS1: convert with 'cryptsetup convert --type luks2' for Argon2 and header checksums"})
	}
}

func judgePlain(d *blockdev.Device, e crypttab.Entry, inCrypttab bool, ctErr error, pol cipherPolicy, t *tally) {
	name := d.DMName
	cipherEv := checks.Evidence{Key: name + " cipher", Expected: "one of " + strings.Join(pol.allowed, ", "), Path: "/etc/crypttab"}
	if !inCrypttab {
		why := "cannot determine cipher of plain mapping " + name + ": a plain mapping has no header and /etc/crypttab has no entry for it"
		if ctErr != nil {
			why = fmt.Sprintf("cannot determine cipher of plain mapping %s: a plain mapping has no header and /etc/crypttab is unreadable: %v", name, ctErr)
		}
		t.add(cipherEv, name, undecided(why))
		return
	}
	cipherEv.Line = e.Line
	keyEv := checks.Evidence{Key: name + " key size", Expected: fmt.Sprintf(">= %d bits", pol.minKeyBits), Path: "/etc/crypttab", Line: e.Line}
	cipher, hasCipher := e.Value("cipher")
	size, hasSize := e.Value("size")
	if !hasCipher {
		t.add(cipherEv, name, undecided(fmt.Sprintf("cannot determine cipher of plain mapping %s: no cipher= option at /etc/crypttab:%d, and the default depends on the cryptsetup version", name, e.Line)))
	} else {
		t.add(cipherEv, name+" cipher "+cipher, sourceVerdict{ok: pol.cipherOK(cipher), actual: cipher + " (crypttab cipher=)"})
	}
	if !hasSize {
		t.add(keyEv, name, undecided(fmt.Sprintf("cannot determine key size of plain mapping %s: no size= option at /etc/crypttab:%d", name, e.Line)))
		return
	}
	bits, _ := strconv.Atoi(size) // the parser checked it is a number
	t.add(keyEv, name+" key "+size+" bits", sourceVerdict{ok: bits >= pol.minKeyBits, actual: size + " bits (crypttab size=)"})
}

// readHeader reads a LUKS header: from a regular file (a detached header
// or a fixture) directly, from a block device on a live host through the
// allow-listed `cryptsetup luksDump`, as checks.Host has no ranged read.
func readHeader(ctx context.Context, h checks.Host, p string) (luks.Header, error) {
	fi, err := h.Stat(ctx, p)
	if err != nil {
		return luks.Header{}, err
	}
	switch {
	case fi.Mode.IsRegular():
		data, err := h.ReadFile(ctx, p)
		if err != nil {
			return luks.Header{}, err
		}
		return luks.Parse(data)
	case fi.Mode&fs.ModeDevice != 0:
		if !h.Live() {
			return luks.Header{}, errors.New("a device node on a host that is not live: cryptsetup cannot read it")
		}
		res, err := h.Exec(ctx, "cryptsetup", "luksDump", p)
		if err != nil {
			return luks.Header{}, err
		}
		if res.ExitCode != 0 {
			return luks.Header{}, fmt.Errorf("cryptsetup luksDump exited %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
		}
		return luks.ParseDump(res.Stdout)
	}
	return luks.Header{}, fmt.Errorf("not a file or block device (mode %s)", fi.Mode)
}
