// Package diskcrypt checks the security measure "encryption at rest with
// AES-256": that data is stored on dm-crypt (LUKS) volumes with an AES-256
// cipher, that swap is encrypted, and that /etc/crypttab matches the
// volumes actually open.
//
// Checks:
//
//   - diskcrypt.data_filesystems_encrypted: every mounted data filesystem in
//     /proc/mounts sits on dm-crypt. The mount source is resolved to its
//     block device through udev symlinks (/dev/mapper, /dev/disk/by-uuid) and
//     followed down the sysfs stack (dm slaves, md members, a partition's
//     disk) until every path reaches a device whose dm UUID says cryptsetup
//     made it an encrypting mapping ("CRYPT-LUKS2-...", "CRYPT-PLAIN-...").
//     Pseudo, RAM and read-only image filesystems are not judged, nor the
//     mount points in exempt_mountpoints (/boot and /boot/efi by default).
//     When /proc is absent (an image scan), the check falls back to
//     /etc/fstab, /etc/crypttab and the LVM metadata backups in
//     /etc/lvm/backup, and says so.
//   - diskcrypt.swap_encrypted: every active swap area in /proc/swaps is on
//     dm-crypt (a swap file: the filesystem holding it); zram is memory and
//     passes with a note; no swap at all passes.
//   - diskcrypt.crypttab_consistent: every open dm-crypt mapping is declared
//     in /etc/crypttab (or on the kernel command line with rd.luks.name= or
//     rd.luks.uuid=) with the device it is open on, every crypttab device
//     exists, and swap and tmp volumes are keyed from /dev/urandom.
//   - diskcrypt.luks_aes256: the LUKS header behind every open mapping names
//     an allowed cipher (aes-xts-plain64) and a volume key of at least 512
//     bits, which is AES-256 in XTS mode; plain mappings are judged from
//     their crypttab cipher= and size= options.
//
// Hosts without block devices in /sys/block (containers, image scans) get
// NOT_APPLICABLE from every check that needs the kernel's view.
//
// Headers are read through checks.Host. A LUKS device on a live host is a
// block device, and Host.ReadFile reads whole files, so there the header is
// read with the allow-listed `cryptsetup luksDump` instead; fixture trees
// hold small regular files with the header bytes.
package diskcrypt
