// Package sudolog holds the checks behind the security measure "privileged
// sudo activity is logged and monitored centrally". Importing the package
// registers them:
//
//   - sudo.installed: the sudo (or sudo-ldap) package is installed.
//   - sudo.use_pty: "Defaults use_pty" is in effect globally and no scoped
//     Defaults entry negates it.
//   - sudo.logfile: "Defaults logfile=" names an absolute path.
//   - sudo.logfile_permissions: that file exists, is owned by root and is
//     not writable by group or others nor readable by others.
//   - sudo.auditd_installed: the audit daemon package is installed.
//   - sudo.auditd_enabled: auditd.service is enabled and not masked, and on
//     a live host the auditd process runs.
//   - sudo.audit_sudoers_watched: audit rules watch /etc/sudoers and
//     /etc/sudoers.d for writes and attribute changes.
//   - sudo.audit_sudolog_watched: audit rules watch the sudo log file.
//   - sudo.audit_privileged_commands: execve is audited when a user runs a
//     program as someone else (euid != uid), for each architecture.
//   - sudo.log_forwarding: logs leave the host, through an rsyslog remote
//     action or systemd-journal-upload, and sudo's syslog messages are
//     among the forwarded ones.
//
// sudoers is read with includes expanded (checks/parse/sudoers), audit
// rules as augenrules loads them (checks/parse/auditrules), and the log
// shipping configuration from rsyslog, journald and journal-upload
// (checks/parse/syslogconf). Policies kept in LDAP (sudo-ldap, sssd) are
// not visible in files and are not judged.
package sudolog
