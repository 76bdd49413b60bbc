#!/bin/sh
# harden-debian12.sh ROOT
#
# Applies CIS Debian Linux 12 style hardening (Level 1 server, the parts the
# plumbline checks judge) to the Debian 12 root tree ROOT, normally a copy of
# the one build-debian12.sh makes. Pure file edits (GNU sed, as on Debian),
# no chroot, nothing run inside ROOT, so it works on any copy. Idempotent:
# running it twice gives the same tree. Section numbers are those of the CIS
# Debian Linux 12 Benchmark v1.1.0.
set -eu

die() { echo "harden-debian12: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 ROOT"
[ -d "$1" ] || die "$1: not a directory"
R=$(cd "$1" && pwd -P)
# Never the running system: this rewrites its security configuration.
[ "$R" != / ] || die "refusing to harden / (give a copy of a root tree)"
[ -f "$R/etc/os-release" ] || [ -L "$R/etc/os-release" ] || die "$R does not look like a root tree (no etc/os-release)"
grep -q '^VERSION_ID="\{0,1\}12"\{0,1\}$' "$R/usr/lib/os-release" "$R/etc/os-release" 2>/dev/null ||
	echo "harden-debian12: warning: $R is not Debian 12; hardening anyway" >&2

umask 022

# gid NAME: the group's gid in ROOT's /etc/group (not the host's).
gid() {
	awk -F: -v g="$1" '$1 == g { print $3; found = 1 } END { exit !found }' "$R/etc/group" ||
		die "group $1 not in $R/etc/group"
}

# put FILE MODE: writes standard input to ROOT/FILE, root-owned, with MODE.
put() {
	mkdir -p "$(dirname "$R$1")"
	cat >"$R$1.harden-tmp"
	chown 0:0 "$R$1.harden-tmp"
	chmod "$2" "$R$1.harden-tmp"
	mv "$R$1.harden-tmp" "$R$1"
}

# set_word FILE KEY VALUE: "KEY VALUE" in a login.defs-style file, replacing
# the active setting (or appending one).
set_word() {
	if grep -q "^[[:space:]]*$2[[:space:]]" "$R$1"; then
		sed -i "s|^[[:space:]]*$2[[:space:]].*|$2\t$3|" "$R$1"
	else
		printf '%s\t%s\n' "$2" "$3" >>"$R$1"
	fi
}

# set_assign FILE KEY VALUE: "KEY=VALUE" in a shell-style file, replacing an
# active or commented-out setting (or appending one).
set_assign() {
	if grep -q "^[[:space:]]*$2=" "$R$1"; then
		sed -i "s|^[[:space:]]*$2=.*|$2=$3|" "$R$1"
	elif grep -q "^#[[:space:]]*$2=" "$R$1"; then
		sed -i "0,/^#[[:space:]]*$2=.*/s||$2=$3|" "$R$1"
	else
		printf '%s=%s\n' "$2" "$3" >>"$R$1"
	fi
}

# --- 1.1.1 Filesystem kernel modules: cramfs, freevxfs, hfs, hfsplus, jffs2,
# udf (1.1.1.1-1.1.1.8) and usb-storage (1.1.1.10) can be neither loaded
# automatically (blacklist) nor by hand (install /bin/false).
{
	echo "# CIS 1.1.1: unused filesystems and USB storage"
	for m in cramfs freevxfs hfs hfsplus jffs2 udf usb-storage; do
		echo "blacklist $m"
		echo "install $m /bin/false"
	done
} | put /etc/modprobe.d/60-cis.conf 0644

# --- 1.5 Process hardening: no core dumps (1.5.2 with fs.suid_dumpable
# below), ASLR (1.5.3) and ptrace scope (1.5.1) are set with the sysctls.
put /etc/security/limits.d/60-cis.conf 0644 <<'EOF'
# CIS 1.5: no core dumps for anyone
* hard core 0
EOF

# --- 1.7 Warning banners: no OS details (\m \r \s \v) in /etc/issue and
# /etc/issue.net (1.7.2-1.7.6), root-owned 0644.
for f in /etc/issue /etc/issue.net; do
	put "$f" 0644 <<'EOF'
Authorized users only. All activity may be monitored and reported.
EOF
done

# --- 2.4 Job schedulers: cron's files root-only (2.4.1.2-2.4.1.7); cron and
# at restricted to the users in cron.allow / at.allow (2.4.1.8, 2.4.2.1),
# the .deny files removed so that only the allow lists count.
if [ -f "$R/etc/crontab" ]; then
	chown 0:0 "$R/etc/crontab"
	chmod 0600 "$R/etc/crontab"
fi
for d in cron.d cron.daily cron.hourly cron.weekly cron.monthly; do
	if [ -d "$R/etc/$d" ]; then
		chown 0:0 "$R/etc/$d"
		chmod 0700 "$R/etc/$d"
	fi
done
for f in cron at; do
	[ -f "$R/etc/$f.allow" ] || : | put "/etc/$f.allow" 0640
	chown 0:0 "$R/etc/$f.allow"
	chmod 0640 "$R/etc/$f.allow"
	rm -f "$R/etc/$f.deny"
done

# --- 3.3 Network kernel parameters (3.3.1-3.3.11) and 1.5.1-1.5.3 process
# hardening, applied at boot by systemd-sysctl / procps from /etc/sysctl.d.
put /etc/sysctl.d/60-cis.conf 0644 <<'EOF'
# CIS 3.3: network parameters (host, not router)
net.ipv4.ip_forward = 0
net.ipv6.conf.all.forwarding = 0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.default.accept_redirects = 0
net.ipv4.conf.all.secure_redirects = 0
net.ipv4.conf.default.secure_redirects = 0
net.ipv4.conf.all.log_martians = 1
net.ipv4.conf.default.log_martians = 1
net.ipv4.icmp_echo_ignore_broadcasts = 1
net.ipv4.icmp_ignore_bogus_error_responses = 1
net.ipv4.conf.all.rp_filter = 1
net.ipv4.conf.default.rp_filter = 1
net.ipv4.tcp_syncookies = 1
net.ipv4.conf.all.accept_source_route = 0
net.ipv4.conf.default.accept_source_route = 0
net.ipv6.conf.all.accept_ra = 0
net.ipv6.conf.default.accept_ra = 0
net.ipv6.conf.all.accept_redirects = 0
net.ipv6.conf.default.accept_redirects = 0
net.ipv6.conf.all.accept_source_route = 0
net.ipv6.conf.default.accept_source_route = 0
# CIS 1.5: process hardening
kernel.randomize_va_space = 2
kernel.yama.ptrace_scope = 1
fs.suid_dumpable = 0
EOF

# --- 5.1 SSH server: sshd_config root-only (5.1.1) and the settings in a
# drop-in. Debian's sshd_config includes sshd_config.d/*.conf at its top and
# sshd keeps the first value it reads, so the drop-in wins over the main file.
if [ -f "$R/etc/ssh/sshd_config" ]; then
	chown 0:0 "$R/etc/ssh/sshd_config"
	chmod 0600 "$R/etc/ssh/sshd_config"
fi
put /etc/ssh/sshd_config.d/60-cis.conf 0600 <<'EOF'
# CIS 5.1: SSH server configuration
Banner /etc/issue.net
ClientAliveInterval 15
ClientAliveCountMax 3
DisableForwarding yes
HostbasedAuthentication no
IgnoreRhosts yes
LoginGraceTime 60
LogLevel VERBOSE
MaxAuthTries 4
MaxSessions 10
MaxStartups 10:30:60
PermitEmptyPasswords no
PermitRootLogin no
EOF

# --- 5.2 sudo: a dedicated log file (5.2.3; use_pty, 5.2.2, is stock).
# sudo ignores sudoers.d files whose name has a dot, hence none here. The log
# file is created as sudo itself would on first use (0600 root), so that its
# protection can be judged before anyone ran sudo.
put /etc/sudoers.d/60-cis-logfile 0440 <<'EOF'
# CIS 5.2.3: sudo logs to its own file
Defaults logfile="/var/log/sudo.log"
EOF
[ -f "$R/var/log/sudo.log" ] || : | put /var/log/sudo.log 0600

# --- 5.3.2/5.3.3 PAM: password quality (5.3.3.2.2 minlen, 5.3.3.2.3
# minclass, 5.3.3.2.8 enforce_for_root) for the stock pam_pwquality line of
# common-password; no empty passwords (5.3.3.4.1: no nullok on pam_unix).
put /etc/security/pwquality.conf.d/50-cis.conf 0644 <<'EOF'
# CIS 5.3.3.2: password quality
minlen = 14
minclass = 4
enforce_for_root
EOF
for f in common-auth common-password; do
	[ ! -f "$R/etc/pam.d/$f" ] ||
		sed -i '/^[[:space:]]*[^#[:space:]].*pam_unix\.so/s/[[:space:]]\{1,\}nullok\([[:space:]]\|$\)/\1/g' "$R/etc/pam.d/$f"
done
# Password history (5.3.3.3.1-3): pam_pwhistory right before pam_unix in the
# password stack. pam_unix's "success=1" skips only the pam_deny after it,
# so a line above it changes no jump. (pam_faillock, 5.3.3.1, needs jumps
# rewritten in common-auth; the Debian way is a pam-auth-update profile
# and a chroot, so it is left out.)
if ! grep -q '^[^#]*pam_pwhistory\.so' "$R/etc/pam.d/common-password"; then
	sed -i '0,/^password[[:space:]].*pam_unix\.so/s//password\trequisite\t\t\tpam_pwhistory.so remember=24 enforce_for_root try_first_pass use_authtok\n&/' \
		"$R/etc/pam.d/common-password"
	grep -q '^[^#]*pam_pwhistory\.so' "$R/etc/pam.d/common-password" ||
		die "could not add pam_pwhistory to $R/etc/pam.d/common-password (no pam_unix line?)"
fi

# --- 5.4.1 Shadow password suite: expiry (5.4.1.1 PASS_MAX_DAYS, 5.4.1.2
# PASS_MIN_DAYS, 5.4.1.3 PASS_WARN_AGE), inactive lock (5.4.1.5, what
# `useradd -D -f 45` writes) and the default umask (5.4.3.3).
set_word /etc/login.defs PASS_MAX_DAYS 365
set_word /etc/login.defs PASS_MIN_DAYS 1
set_word /etc/login.defs PASS_WARN_AGE 7
set_word /etc/login.defs UMASK 027
[ -f "$R/etc/default/useradd" ] || : | put /etc/default/useradd 0644
set_assign /etc/default/useradd INACTIVE 45

# --- 5.4.3 User environment: umask 027 (5.4.3.3) and a read-only 15-minute
# shell timeout (5.4.3.2) for login shells.
put /etc/profile.d/50-umask.sh 0644 <<'EOF'
# CIS 5.4.3.3: default umask
umask 027
EOF
put /etc/profile.d/50-tmout.sh 0644 <<'EOF'
# CIS 5.4.3.2: idle shells end after 15 minutes
TMOUT=900
readonly TMOUT
export TMOUT
EOF

# --- 6.1 journald: persistent, compressed (6.1.2.x).
put /etc/systemd/journald.conf.d/60-cis.conf 0644 <<'EOF'
# CIS 6.1.2: journald
[Journal]
Storage=persistent
Compress=yes
EOF

# --- 6.1.3 rsyslog: files it creates are not world-readable (6.1.3.4).
if [ -d "$R/etc/rsyslog.d" ]; then
	put /etc/rsyslog.d/60-cis.conf 0644 <<'EOF'
# CIS 6.1.3.4: rsyslog log file mode
$FileCreateMode 0640
EOF
fi

# --- 6.2 auditd rules: changes to the sudo policy (6.2.3.1 scope), actions
# as another user (6.2.3.2 user_emulation) and the sudo log (6.2.3.3).
# augenrules compiles rules.d into audit.rules at boot.
put /etc/audit/rules.d/50-scope.rules 0640 <<'EOF'
## CIS 6.2.3.1: changes to the sudo policy
-w /etc/sudoers -p wa -k scope
-w /etc/sudoers.d -p wa -k scope
## CIS 6.2.3.3: changes to the sudo log file
-w /var/log/sudo.log -p wa -k sudo_log_file
EOF
put /etc/audit/rules.d/50-user_emulation.rules 0640 <<'EOF'
## CIS 6.2.3.2: programs run as another user
-a always,exit -F arch=b64 -C euid!=uid -F auid!=unset -S execve -k user_emulation
-a always,exit -F arch=b32 -C euid!=uid -F auid!=unset -S execve -k user_emulation
EOF

# --- 7.1 System file permissions: shadow files 0640 root:shadow (7.1.5,
# 7.1.7; Debian's own choice of owner and group).
shadow=$(gid shadow)
for f in /etc/shadow /etc/gshadow /etc/shadow- /etc/gshadow-; do
	if [ -f "$R$f" ]; then
		chown "0:$shadow" "$R$f"
		chmod 0640 "$R$f"
	fi
done
