package syslogconf

import "strings"

// severities are syslog severities by name, most severe first.
var severities = map[string]int{
	"emerg": 0, "panic": 0, "alert": 1, "crit": 2, "err": 3, "error": 3,
	"warning": 4, "warn": 4, "notice": 5, "info": 6, "debug": 7,
}

// facilityAliases maps deprecated facility names to their current ones.
var facilityAliases = map[string]string{"security": "auth"}

// selectorMatches evaluates a traditional selector such as
// "*.info;mail.none;authpriv.none" for one facility and severity, the way
// rsyslog does: parts apply left to right, each setting, adding or
// removing severities for the facilities it names. known is false when the
// selector or the query uses a name this package does not know.
func selectorMatches(sel, facility, severity string) (match, known bool) {
	want, ok := severities[strings.ToLower(severity)]
	if !ok {
		return false, false
	}
	facility = canonicalFacility(facility)
	var mask uint8
	for _, part := range strings.Split(sel, ";") {
		facs, pri, ok := strings.Cut(strings.ToLower(part), ".")
		if !ok {
			return false, false
		}
		applies := false
		for _, f := range strings.Split(facs, ",") {
			if f == "*" || canonicalFacility(f) == facility {
				applies = true
			}
		}
		if !applies {
			continue
		}
		neg := strings.HasPrefix(pri, "!")
		pri = strings.TrimPrefix(pri, "!")
		eq := strings.HasPrefix(pri, "=")
		pri = strings.TrimPrefix(pri, "=")
		var bits uint8
		switch pri {
		case "none":
			mask = 0
			continue
		case "*":
			bits = 0xff
		default:
			sev, ok := severities[pri]
			if !ok {
				return false, false
			}
			if eq {
				bits = 1 << sev
			} else {
				bits = uint8(1<<(sev+1) - 1) // sev and everything more severe
			}
		}
		if neg {
			mask &^= bits
		} else {
			mask |= bits
		}
	}
	return mask&(1<<want) != 0, true
}

func canonicalFacility(f string) string {
	f = strings.ToLower(f)
	if a, ok := facilityAliases[f]; ok {
		return a
	}
	return f
}
