// Package password holds the checks behind the security measure "password
// policy: length, complexity, age, history, max login attempts, change of
// initial password". Importing it registers them.
//
// # Checks
//
//   - password.pwquality_minlen: pam_pwquality is in every system-wide
//     password stack and its effective minlen is at least min_length (14).
//   - password.pwquality_complexity: effective minclass is at least
//     min_classes (4), or dcredit, ucredit, lcredit and ocredit are all -1 or
//     less (CIS accepts either).
//   - password.pwquality_enforce_for_root: enforce_for_root is set, so root
//     cannot override the quality rules.
//   - password.pass_max_days, password.pass_min_days, password.pass_warn_age:
//     /etc/login.defs PASS_MAX_DAYS in 1..max_days (365), PASS_MIN_DAYS at
//     least min_days (1), PASS_WARN_AGE at least warn_age (7).
//   - password.user_ages: the same limits per account in /etc/shadow, for
//     every account with a usable password hash.
//   - password.inactive: INACTIVE in /etc/default/useradd and every password
//     account's shadow inactive field in 0..inactive_days (45).
//   - password.faillock: pam_faillock preauth and authfail are in every
//     system-wide auth stack, and on each of those lines deny is in
//     1..max_deny (5) and unlock_time is 0 or at least min_unlock_time (900).
//   - password.pwhistory: pam_pwhistory is in every password stack with
//     remember at least remember (24).
//   - password.hashing: login.defs ENCRYPT_METHOD is YESCRYPT or SHA512 and
//     no pam_unix password line selects a weaker method.
//   - password.no_empty: no /etc/shadow password field is empty and pam_unix
//     in the auth stacks has no nullok.
//   - password.root_rotation: root's password was changed within
//     max_age_days (31); NOT_APPLICABLE when root has no usable password.
//
// # Which PAM files
//
// The system-wide stacks are Debian and Ubuntu's /etc/pam.d/common-auth and
// common-password, and the RHEL family's /etc/pam.d/system-auth and
// password-auth (both written by authselect, often as symlinks into
// /etc/authselect). Every one of them that exists is judged, with include,
// substack and @include expanded as libpam does, and every finding names the
// file and line of the rule, even when it sits in an included file.
//
// A control that needs a module in the stack (pwquality, faillock,
// pwhistory) FAILs when none of the expected files exists, with the
// evidence "none of ... exists": a host without PAM configuration (a
// minimal container image, say) enforces no password policy, and a baseline
// that does not want these checks for such images should deselect them. A
// control that forbids something in the stack (nullok, a weak pam_unix
// hash) treats a missing stack as nothing forbidden and judges the rest.
//
// # How values are read
//
// Each configuration is read as the program that uses it reads it, so that
// the scanner reports the value in force and not the one that looks
// configured:
//
//   - libpwquality reads /etc/security/pwquality.conf.d/*.conf in byte
//     order first and /etc/security/pwquality.conf last, so the main file
//     overrides the directory; the arguments on the pam_pwquality line
//     override both. An unknown setting or a non-integer value stops
//     libpwquality reading its configuration, and is an ERROR here.
//   - shadow-utils reads login.defs with the last duplicate winning, treats a
//     value it cannot parse as a number (such as "90 # days") as unset, and
//     compares ENCRYPT_METHOD exactly (lower-case "sha512" means DES).
//   - pam_faillock reads faillock.conf (or conf=) and then its arguments;
//     pam_pwhistory reads pwhistory.conf (or conf=), where the first
//     "remember" line wins, and then its arguments.
//
// A file that cannot be read or parsed (a malformed PAM line, an include
// loop or a missing included file, a malformed /etc/shadow line) gives
// ERROR naming the file and line, never PASS or FAIL. A missing
// /etc/login.defs or /etc/default/useradd is a FAIL: shadow-utils then uses
// built-in defaults that do not meet the policy. A missing /etc/shadow is an
// ERROR, since no account can be judged.
//
// password.root_rotation's "now" parameter (RFC 3339, empty for the real
// clock) makes scans of an image reproducible.
package password
