// Package declarative reads checks written as data: YAML files of typed
// probes (read something from the host) and matchers (compare it), evaluated
// in-process through checks.Host. Most CIS controls are "read a value,
// compare it"; writing them as data keeps each one a few reviewable lines.
// Controls whose logic is clearer as code stay Go check families.
//
// # File format (schema plumbline.checks/v1)
//
//	schema: plumbline.checks/v1
//	checks:
//	  - id: ssh.permit_root_login          # dotted lower case; the family is the first part
//	    title: SSH root login is disabled
//	    severity: high                     # info, low, medium, high, critical
//	    rationale: Logging in as root directly hides who did what.
//	    remediation: Set "PermitRootLogin no" in /etc/ssh/sshd_config.
//	    cis:                               # CIS control per platform (os-release ID:VERSION_ID)
//	      debian:12: "5.1.20"
//	      rhel:9: ["4.2.19"]               # one control or a list
//	    level: 1                           # CIS profile level (1 or 2), default 1
//	    assessment: automated              # CIS assessment status: automated (default) or manual
//	    platforms: [debian, ubuntu]        # os-release ID or ID_LIKE; empty: every Linux
//	    params:
//	      - {name: max_auth_tries, kind: int, default: 4, doc: "highest MaxAuthTries accepted"}
//	    when:                              # optional: false → NOT_APPLICABLE
//	      package: openssh-server
//	      installed: true
//	    test:                              # one assertion, or all/any/none of several
//	      sshd: PermitRootLogin
//	      default: prohibit-password
//	      value: {eq: "no"}
//
// A condition ("when", "test", and every item of all/any/none) is either a
// group — a mapping with exactly one key all, any or none, holding a list of
// conditions — or an assertion: a mapping with exactly one probe key, the
// probe's options, and matchers on the probe's fields.
//
// # Assertions
//
// A probe yields observations (one per file, line, user, Match block...),
// each a set of typed fields. An assertion holds when its matchers hold for
// the observations as its "match" key says:
//
//	match: all    # every observation satisfies every field's matchers (default)
//	match: any    # at least one does
//	match: none   # none does (with no field matchers: there are no observations)
//	where: {uid: {eq: 0}}   # only observations whose fields match count
//	absent: pass  # result when there are no observations, or when the observed file
//	              # or package does not exist; default fail, except pass for
//	              # match: none and for glob
//	unique: uid   # no two observations share the field's value (duplicate ids)
//
// Field matchers: "field: {op: value, ...}" (all ops must hold), or
// "field: value" for eq. Ops:
//
//	eq, ne          equal / not equal; numbers compare as numbers, booleans as booleans
//	lt, le, gt, ge  numeric; package versions compare as dpkg/rpm do
//	regex           RE2, unanchored (anchor with ^...$); on a list, any element
//	not_regex       the opposite
//	contains        substring of a string, element of a list
//	not_contains    the opposite
//	one_of          equal to one of a list
//	mode_at_most    octal permission mode no more permissive than "0640"
//
// A matcher value may be {param: NAME} to use a check parameter, or
// {field: NAME} to compare with another field of the same observation
// (home_uid: {field: uid}).
// A field that the observation lacks (a key that is not set, a file that
// does not exist) never satisfies a matcher; the evidence says "not set".
//
// # Probes and their fields
//
//	file: PATH           exists, type (file, dir, symlink, other), mode, owner, group, uid, gid, size, path
//	                     options: follow (default true; false inspects a symlink itself)
//	glob: PATTERN        one observation per match, fields as file; absent defaults to pass
//	lines: PATH|GLOB     one observation per line matching "regex" (option, default every
//	                     non-comment line); fields line, path and the regex's named groups
//	                     options: regex, comments (default "#"; "" keeps comment lines),
//	                     include (a regex with a group (?P<path>...) matching lines that
//	                     bring in other files, such as nft's include "/etc/nftables.d/*";
//	                     their lines are read in place; a missing file named without
//	                     wildcards voids the whole file, as in nft), include_dir (where
//	                     relative includes are, e.g. /etc for nft; default the including
//	                     file's directory)
//	kv: PATH             key/value file (login.defs, pwquality.conf...); fields value
//	                     options: key (required), separator ("whitespace" default, or a
//	                     character such as "="), dropins (glob, read after PATH, in name
//	                     order), last_wins (default true), ignore_case, default
//	ini: PATH            INI/systemd file; fields value; options: section and key
//	                     (required), dropins, default, systemd (read as systemd does: the
//	                     file from /etc/systemd, else /run, /usr/local/lib or /usr/lib, then
//	                     NAME.d/*.conf of all four by file name, /etc hiding the rest)
//	sshd: KEYWORD        effective sshd_config value: Include followed, first value wins as
//	                     in sshd, one observation per Match block that sets the keyword;
//	                     fields value (keywords lower-cased: yes, no, verbose) and match (the
//	                     Match criteria, "" in the global section); options: path (default
//	                     /etc/ssh/sshd_config), default
//	sysctl: NAME         configured value (sysctl.d precedence: later file names win, /etc
//	                     over /run over /usr/lib for one name, /etc/sysctl.conf last) and,
//	                     on the live host, the running value from /proc/sys; fields value
//	                     options: live (default true)
//	kmod: NAME           kernel module: loaded (live host; false on an image), available
//	                     (a .ko under /lib/modules), disabled ("install NAME /bin/false" or
//	                     /bin/true), blacklisted
//	mount: DIR           mounted (a separate mount), options (list), fstype, source; the
//	                     live host reads /proc/self/mounts, an image /etc/fstab
//	package: NAME        installed, version (compared as the package manager does)
//	service: UNIT        exists, enabled, masked (from unit files and links, live or image)
//	users:               every /etc/passwd entry: name, uid, gid, home, shell, password,
//	                     home_exists, home_uid, home_mode, password_state (from /etc/shadow,
//	                     as the shadow probe names it), group_exists (gid in /etc/group),
//	                     shell_listed (in /etc/shells)
//	home_files: PATTERN  files matching PATTERN (".netrc", ".*") in each interactive user's home
//	                     (shell in /etc/shells, not nologin or false; option all_users: every
//	                     user), links not followed; fields as file, plus user, user_uid,
//	                     user_gid; absent defaults to pass
//	groups:              every /etc/group entry: name, gid, members (list)
//	shadow:              every /etc/shadow entry: name, password_state (empty, locked,
//	                     no login, password set), hash, last_change, min, max, warn,
//	                     inactive, expire (days; -1 when unset), last_change_in_future
//	pam: SERVICE         rules of /etc/pam.d/SERVICE, includes expanded; options: type
//	                     (auth, account, password, session), module (e.g. pam_unix.so);
//	                     fields type, control, module, args (list), arg.NAME (an argument's
//	                     value, "true" for a flag)
//	os:                  os-release: id, version_id, id_like (list)
//
// # Results
//
// PASS or FAIL follow from the test, with one evidence item per observed
// value (expected, actual, file and line). A probe that cannot read what it
// needs (permission denied, a malformed file) makes the check ERROR with the
// reason, unless the rest of the test already decides it: all/any/none use
// three-valued logic, so "any" with one branch true is PASS even if another
// branch errored.
//
// Every problem in a file is reported at once with the file and line:
// unknown keys, unknown probes or fields, wrong types, bad regular
// expressions, unknown parameters, duplicate ids.
package declarative
