package pkgdb

import "strings"

// CompareDpkg orders Debian versions ([epoch:]upstream[-revision]) as
// dpkg --compare-versions does: -1, 0 or 1.
func CompareDpkg(a, b string) int {
	ea, ua, ra := splitDpkg(a)
	eb, ub, rb := splitDpkg(b)
	if c := compareNumeric(ea, eb); c != 0 {
		return c
	}
	if c := compareDebianPart(ua, ub); c != 0 {
		return c
	}
	return compareDebianPart(ra, rb)
}

func splitDpkg(v string) (epoch, upstream, revision string) {
	epoch = "0"
	if e, rest, ok := strings.Cut(v, ":"); ok {
		epoch, v = e, rest
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// compareNumeric compares decimal digit strings of any length.
func compareNumeric(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// debOrder is dpkg's character weight: "~" sorts before everything, even
// the end of the string; letters before non-letters.
func debOrder(c byte, ok bool) int {
	switch {
	case !ok:
		return 0
	case c == '~':
		return -1
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	default:
		return int(c) + 256
	}
}

func compareDebianPart(a, b string) int {
	for a != "" || b != "" {
		// Non-digit prefix.
		for (a != "" && !isDigit(a[0])) || (b != "" && !isDigit(b[0])) {
			var ca, cb byte
			oka, okb := a != "" && !isDigit(a[0]), b != "" && !isDigit(b[0])
			if oka {
				ca = a[0]
			}
			if okb {
				cb = b[0]
			}
			if oa, ob := debOrder(ca, oka), debOrder(cb, okb); oa != ob {
				if oa < ob {
					return -1
				}
				return 1
			}
			if oka {
				a = a[1:]
			}
			if okb {
				b = b[1:]
			}
		}
		// Digit run.
		da, db := digitRun(a), digitRun(b)
		if c := compareNumeric(da, db); c != 0 {
			return c
		}
		a, b = a[len(da):], b[len(db):]
	}
	return 0
}

func digitRun(s string) string {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// CompareRPM orders rpm versions ([epoch:]version[-release]) as rpmvercmp
// does, including "~" (pre-release) and "^" (post-release) markers.
func CompareRPM(a, b string) int {
	ea, va, ra := splitDpkg(a)
	eb, vb, rb := splitDpkg(b)
	if c := compareNumeric(ea, eb); c != 0 {
		return c
	}
	if c := rpmvercmp(va, vb); c != 0 {
		return c
	}
	if ra == "" || rb == "" {
		return 0 // a missing release matches any release
	}
	return rpmvercmp(ra, rb)
}

func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	isSep := func(c byte) bool { return !isDigit(c) && !isAlpha(c) && c != '~' && c != '^' }
	for a != "" || b != "" {
		a, b = strings.TrimLeftFunc(a, func(r rune) bool { return r < 128 && isSep(byte(r)) }), strings.TrimLeftFunc(b, func(r rune) bool { return r < 128 && isSep(byte(r)) })
		// Tilde sorts before everything.
		if strings.HasPrefix(a, "~") || strings.HasPrefix(b, "~") {
			if !strings.HasPrefix(a, "~") {
				return 1
			}
			if !strings.HasPrefix(b, "~") {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		// Caret sorts after the end of the string but before anything else.
		if strings.HasPrefix(a, "^") || strings.HasPrefix(b, "^") {
			switch {
			case a == "":
				return -1
			case b == "":
				return 1
			case !strings.HasPrefix(a, "^"):
				return 1
			case !strings.HasPrefix(b, "^"):
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if a == "" || b == "" {
			break
		}
		var sa, sb string
		numeric := isDigit(a[0])
		if numeric {
			sa, sb = digitRun(a), digitRun(b)
		} else {
			sa, sb = alphaRun(a), alphaRun(b)
		}
		if sb == "" {
			// Numeric segments are newer than alphabetic ones.
			if numeric {
				return 1
			}
			return -1
		}
		var c int
		if numeric {
			c = compareNumeric(sa, sb)
		} else {
			c = strings.Compare(sa, sb)
		}
		if c != 0 {
			return c
		}
		a, b = a[len(sa):], b[len(sb):]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	default:
		return 1
	}
}

func alphaRun(s string) string {
	i := 0
	for i < len(s) && isAlpha(s[i]) {
		i++
	}
	return s[:i]
}
