package diskcrypt

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plumbline/plumbline/checks/parse/luks/lukstest"
)

var update = flag.Bool("update", false, "rewrite the testdata fixture trees from fixtureSpecs")

// The fixture trees under testdata/ are generated from the specs below, so
// that the sysfs layout (symlinks between /sys/block, /sys/devices, slaves
// and holders) and the binary LUKS headers stay consistent. Regenerate with
//
//	go test ./checks/families/diskcrypt -run TestFixtures -update

// disk is a physical (or virtual leaf) block device with partitions.
type disk struct {
	name, dev string
	// bus is the sysfs device path above block/, "virtual" for zram and loop.
	bus     string
	parts   int
	backing string // loop backing file
}

// stacked is a device built on others: dm (with a name) or md.
type stacked struct {
	name, dev      string
	dmName, dmUUID string
	slaves         []string
}

type fixture struct {
	disks   []disk
	stacked []stacked
	files   map[string]string
	links   map[string]string
	blobs   map[string][]byte
}

const (
	uuidRoot  = "3f2a1c9e-5b7d-4e21-9a0c-6d8e2f4b1a77"
	uuidUbu   = "6c8e0b42-91d3-4f7a-b5e2-0a1c3d5e7f90"
	uuidRaidA = "a1a1a1a1-0000-4000-8000-00000000000a"
	uuidRaidB = "b2b2b2b2-0000-4000-8000-00000000000b"
	uuidHome  = "9d4c2b1a-8e7f-4a6b-9c5d-3e2f1a0b9c8d"
	uuidL1    = "0b5e2c1a-7f3d-4a9e-8c21-5d6f7a8b9c0d"
	uuidData  = "d47a0000-1111-4222-8333-444455556666"
	uuidOther = "e5e5e5e5-1111-4222-8333-444455556666"
)

func hex(uuid string) string { return strings.ReplaceAll(uuid, "-", "") }

func luksDM(typ, uuid, name string) string { return "CRYPT-" + typ + "-" + hex(uuid) + "-" + name }

func lvmDM(lv string) string {
	return "LVM-" + strings.Repeat("a", 32) + strings.Repeat(lv[:1], 32)
}

func luks2(uuid string, cipher string, keyBytes int) []byte {
	return lukstest.LUKS2(uuid, "", lukstest.Metadata(lukstest.Volume{Cipher: cipher, KeyBytes: keyBytes}))
}

func aes256(uuid string) []byte { return luks2(uuid, "aes-xts-plain64", 64) }

const (
	busVDA = "pci0000:00/0000:00:04.0/virtio1"
	busVDB = "pci0000:00/0000:00:05.0/virtio2"
	busVDC = "pci0000:00/0000:00:06.0/virtio3"
)

const mountsBase = `sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
udev /dev devtmpfs rw,nosuid,relatime,size=4010000k,nr_inodes=1002500,mode=755,inode64 0 0
devpts /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000 0 0
tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=803000k,mode=755,inode64 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0
`

const swapsHeader = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

func swapLine(name, typ string) string {
	return fmt.Sprintf("%-40s%s\t%d\t\t0\t\t-2\n", name, typ, 2097148)
}

var fixtureSpecs = map[string]fixture{
	"pass_luks2": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 3}},
		stacked: []stacked{
			{name: "dm-0", dmName: "luks-" + uuidRoot, dmUUID: luksDM("LUKS2", uuidRoot, "luks-"+uuidRoot), slaves: []string{"vda2"}},
			{name: "dm-1", dmName: "cswap", dmUUID: "CRYPT-PLAIN-cswap", slaves: []string{"vda3"}},
		},
		files: map[string]string{
			"proc/mounts": mountsBase + "/dev/mapper/luks-" + uuidRoot + " / ext4 rw,relatime,errors=remount-ro 0 0\n" +
				"/dev/vda1 /boot ext4 rw,relatime 0 0\n" +
				"/dev/loop0 /snap/core22/1380 squashfs ro,nodev,relatime,errors=continue,threads=single 0 0\n" +
				"fileserver:/export/home /mnt/shared nfs4 rw,relatime,vers=4.2,rsize=1048576,wsize=1048576,hard,proto=tcp 0 0\n",
			"proc/swaps":   swapsHeader + swapLine("/dev/dm-1", "partition"),
			"proc/cmdline": "BOOT_IMAGE=/vmlinuz-6.1.0-18-amd64 root=/dev/mapper/luks-" + uuidRoot + " ro quiet\n",
			"etc/crypttab": "# <target name>\t<source device>\t<key file>\t<options>\n" +
				"luks-" + uuidRoot + " UUID=" + uuidRoot + " none luks,discard\n" +
				"cswap PARTUUID=5a3c0e11-03 /dev/urandom swap,cipher=aes-xts-plain64,size=512,sector-size=4096\n",
		},
		links: map[string]string{
			"dev/disk/by-uuid/" + uuidRoot:     "../../vda2",
			"dev/disk/by-partuuid/5a3c0e11-03": "../../vda3",
		},
		blobs: map[string][]byte{"dev/vda2": aes256(uuidRoot)},
	},
	"lvm_on_luks": {
		disks: []disk{
			{name: "vda", dev: "252:0", bus: busVDA, parts: 3},
			{name: "vdb", dev: "252:16", bus: busVDB},
			{name: "vdc", dev: "252:32", bus: busVDC},
		},
		stacked: []stacked{
			{name: "dm-0", dmName: "dm_crypt-0", dmUUID: luksDM("LUKS2", uuidUbu, "dm_crypt-0"), slaves: []string{"vda3"}},
			{name: "dm-1", dmName: "vgubuntu-root", dmUUID: lvmDM("root"), slaves: []string{"dm-0"}},
			{name: "dm-2", dmName: "vgubuntu-swap_1", dmUUID: lvmDM("swap"), slaves: []string{"dm-0"}},
			{name: "dm-3", dmName: "vgubuntu-data", dmUUID: lvmDM("data"), slaves: []string{"dm-0"}},
			{name: "dm-4", dmName: "raid-a", dmUUID: luksDM("LUKS2", uuidRaidA, "raid-a"), slaves: []string{"vdb"}},
			{name: "dm-5", dmName: "raid-b", dmUUID: luksDM("LUKS2", uuidRaidB, "raid-b"), slaves: []string{"vdc"}},
			{name: "md0", dev: "9:0", slaves: []string{"dm-4", "dm-5"}},
		},
		files: map[string]string{
			"proc/mounts": mountsBase + "/dev/mapper/vgubuntu-root / ext4 rw,relatime,errors=remount-ro 0 0\n" +
				"/dev/vda2 /boot ext4 rw,relatime 0 0\n" +
				"/dev/vda1 /boot/efi vfat rw,relatime,fmask=0077,dmask=0077,codepage=437,iocharset=iso8859-1,shortname=mixed,errors=remount-ro 0 0\n" +
				"/dev/disk/by-uuid/7e1f0c3a-2b4d-4e6f-8a9b-0c1d2e3f4a5b /srv/data xfs rw,relatime,attr2,inode64,logbufs=8,logbsize=32k,noquota 0 0\n" +
				"/dev/md0 /srv/raid ext4 rw,relatime 0 0\n" +
				"overlay /var/lib/docker/overlay2/4f1c/merged overlay rw,relatime,lowerdir=/var/lib/docker/overlay2/l/ABC,upperdir=/var/lib/docker/overlay2/4f1c/diff,workdir=/var/lib/docker/overlay2/4f1c/work 0 0\n",
			"proc/swaps": swapsHeader + swapLine("/dev/dm-2", "partition"),
			"etc/crypttab": "dm_crypt-0 UUID=" + uuidUbu + " none luks,discard\n" +
				"raid-a UUID=" + uuidRaidA + " /etc/keys/raid.key luks\n" +
				"raid-b UUID=" + uuidRaidB + " /etc/keys/raid.key luks\n",
		},
		links: map[string]string{
			"dev/disk/by-uuid/" + uuidUbu:                           "../../vda3",
			"dev/disk/by-uuid/" + uuidRaidA:                         "../../vdb",
			"dev/disk/by-uuid/" + uuidRaidB:                         "../../vdc",
			"dev/disk/by-uuid/7e1f0c3a-2b4d-4e6f-8a9b-0c1d2e3f4a5b": "../../dm-3",
			"dev/vgubuntu/root":                                     "../dm-1",
		},
		blobs: map[string][]byte{"dev/vda3": aes256(uuidUbu), "dev/vdb": aes256(uuidRaidA), "dev/vdc": aes256(uuidRaidB)},
	},
	"root_unencrypted": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 2}, {name: "vdb", dev: "252:16", bus: busVDB, parts: 1}},
		stacked: []stacked{
			{name: "dm-0", dmName: "home", dmUUID: luksDM("LUKS2", uuidHome, "home"), slaves: []string{"vdb1"}},
		},
		files: map[string]string{
			"proc/mounts": mountsBase + "/dev/vda1 / ext4 rw,relatime,errors=remount-ro 0 0\n" +
				"/dev/mapper/home /home ext4 rw,relatime 0 0\n" +
				"/dev/vda2 /var/log ext4 rw,relatime 0 0\n",
			"proc/swaps":   swapsHeader,
			"etc/crypttab": "home UUID=" + uuidHome + " none luks\n",
		},
		links: map[string]string{"dev/disk/by-uuid/" + uuidHome: "../../vdb1"},
		blobs: map[string][]byte{"dev/vdb1": aes256(uuidHome)},
	},
	"swap_unencrypted": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 3}, {name: "zram0", dev: "251:0", bus: "virtual"}},
		stacked: []stacked{
			{name: "dm-0", dmName: "luks-root", dmUUID: luksDM("LUKS2", uuidRoot, "luks-root"), slaves: []string{"vda2"}},
		},
		files: map[string]string{
			"proc/mounts": mountsBase + "/dev/mapper/luks-root / ext4 rw,relatime 0 0\n/dev/vda1 /boot ext4 rw,relatime 0 0\n",
			"proc/swaps": swapsHeader + swapLine("/dev/vda3", "partition") + swapLine("/swap\\040file", "file") +
				swapLine("/dev/zram0", "partition"),
			"etc/crypttab": "luks-root UUID=" + uuidRoot + " none luks\n",
		},
		links: map[string]string{"dev/disk/by-uuid/" + uuidRoot: "../../vda2"},
		blobs: map[string][]byte{"dev/vda2": aes256(uuidRoot)},
	},
	"luks1_cbc": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 2}},
		stacked: []stacked{
			{name: "dm-0", dmName: "vda2_crypt", dmUUID: luksDM("LUKS1", uuidL1, "vda2_crypt"), slaves: []string{"vda2"}},
		},
		files: map[string]string{
			"proc/mounts":  mountsBase + "/dev/mapper/vda2_crypt / ext4 rw,relatime 0 0\n/dev/vda1 /boot ext4 rw,relatime 0 0\n",
			"proc/swaps":   swapsHeader,
			"etc/crypttab": "vda2_crypt UUID=" + uuidL1 + " none luks\n",
		},
		links: map[string]string{"dev/disk/by-uuid/" + uuidL1: "../../vda2"},
		blobs: map[string][]byte{"dev/vda2": lukstest.LUKS1("aes", "cbc-essiv:sha256", 32, uuidL1, 0)},
	},
	"crypttab_missing_entry": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 3}, {name: "vdb", dev: "252:16", bus: busVDB, parts: 2}},
		stacked: []stacked{
			{name: "dm-0", dmName: "luks-root", dmUUID: luksDM("LUKS2", uuidRoot, "luks-root"), slaves: []string{"vda2"}},
			{name: "dm-1", dmName: "scratch", dmUUID: luksDM("LUKS2", uuidHome, "scratch"), slaves: []string{"vdb1"}},
			{name: "dm-2", dmName: "data", dmUUID: luksDM("LUKS2", uuidData, "data"), slaves: []string{"vdb2"}},
		},
		files: map[string]string{
			"proc/mounts": mountsBase + "/dev/mapper/luks-root / ext4 rw,relatime 0 0\n/dev/vda1 /boot ext4 rw,relatime 0 0\n" +
				"/dev/mapper/scratch /scratch ext4 rw,relatime 0 0\n/dev/mapper/data /srv ext4 rw,relatime 0 0\n",
			"proc/swaps": swapsHeader,
			"etc/crypttab": "luks-root UUID=" + uuidRoot + " none luks\n" +
				"old-backup UUID=" + uuidOther + " none luks\n" +
				"cswap /dev/vda3 none swap,cipher=aes-xts-plain64,size=512\n" +
				"usb LABEL=usbkey none luks,noauto,nofail\n" +
				"data UUID=" + uuidData + " none luks\n",
		},
		links: map[string]string{
			"dev/disk/by-uuid/" + uuidRoot: "../../vda2",
			// Wrong: the data mapping is open on vdb2.
			"dev/disk/by-uuid/" + uuidData: "../../vdb1",
		},
		blobs: map[string][]byte{"dev/vda2": aes256(uuidRoot), "dev/vdb1": aes256(uuidHome), "dev/vdb2": aes256(uuidData)},
	},
	"cmdline_declared": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 2}},
		stacked: []stacked{
			{name: "dm-0", dmName: "luks-" + uuidRoot, dmUUID: luksDM("LUKS2", uuidRoot, "luks-"+uuidRoot), slaves: []string{"vda2"}},
		},
		files: map[string]string{
			"proc/mounts":  mountsBase + "/dev/mapper/luks-" + uuidRoot + " / xfs rw,relatime 0 0\n/dev/vda1 /boot xfs rw,relatime 0 0\n",
			"proc/swaps":   swapsHeader,
			"proc/cmdline": "BOOT_IMAGE=(hd0,gpt1)/vmlinuz-5.14.0-427.el9.x86_64 root=/dev/mapper/luks-" + uuidRoot + " ro rd.luks.uuid=luks-" + uuidRoot + " rhgb quiet\n",
		},
		blobs: map[string][]byte{"dev/vda2": aes256(uuidRoot)},
	},
	"no_crypttab": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 2}},
		stacked: []stacked{
			{name: "dm-0", dmName: "secret", dmUUID: luksDM("LUKS2", uuidRoot, "secret"), slaves: []string{"vda2"}},
		},
		files: map[string]string{
			"proc/mounts":  mountsBase + "/dev/vda1 / ext4 rw,relatime 0 0\n/dev/mapper/secret /srv ext4 rw,relatime 0 0\n",
			"proc/swaps":   swapsHeader,
			"proc/cmdline": "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro\n",
		},
		blobs: map[string][]byte{"dev/vda2": aes256(uuidRoot)},
	},
	"container": {
		files: map[string]string{
			"proc/mounts": "overlay / overlay rw,relatime,lowerdir=/var/lib/docker/overlay2/l/X:/var/lib/docker/overlay2/l/Y,upperdir=/var/lib/docker/overlay2/9a/diff,workdir=/var/lib/docker/overlay2/9a/work 0 0\n" +
				"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n" +
				"tmpfs /dev tmpfs rw,nosuid,size=65536k,mode=755,inode64 0 0\n" +
				"/dev/vda1 /etc/hosts ext4 rw,relatime 0 0\n",
			"proc/swaps": swapsHeader + swapLine("/dev/vda3", "partition"),
			"etc/hosts":  "127.0.0.1 localhost\n",
		},
	},
	"image_fstab": {
		files: map[string]string{
			"etc/fstab": "# /etc/fstab: static file system information.\n" +
				"/dev/mapper/vg0-root  /          ext4  errors=remount-ro 0 1\n" +
				"UUID=2d7c0a1e-3f4b-4c5d-8e9f-0a1b2c3d4e5f /boot ext4 defaults 0 2\n" +
				"UUID=1A2B-3C4D        /boot/efi  vfat  umask=0077 0 1\n" +
				"/dev/mapper/luks-home /home      ext4  defaults 0 2\n" +
				"/dev/vg0/var          /var       xfs   defaults 0 2\n" +
				"/dev/mapper/vg0-swap  none       swap  sw 0 0\n" +
				"tmpfs                 /tmp       tmpfs defaults,nosuid,nodev 0 0\n" +
				"/srv/www              /var/www   none  bind 0 0\n",
			"etc/crypttab": "vda3_crypt UUID=" + uuidUbu + " none luks,discard\nluks-home UUID=" + uuidHome + " none luks\n",
			"etc/lvm/backup/vg0": "# Generated by LVM2 version 2.03.16(2) (2022-05-18): Mon Jan 15 10:12:33 2024\n\n" +
				"contents = \"Text Format Volume Group\"\nversion = 1\n\n" +
				"vg0 {\n\tid = \"Xq3v1c-0aBc-dEfG-hIjK-lMnO-pQrS-tUvWxY\"\n\tseqno = 4\n\tformat = \"lvm2\"\n" +
				"\tphysical_volumes {\n\n\t\tpv0 {\n\t\t\tid = \"a1B2c3-D4e5-F6g7-H8i9-J0k1-L2m3-N4o5P6\"\n" +
				"\t\t\tdevice = \"/dev/mapper/vda3_crypt\"\t# Hint only\n\n\t\t\tstatus = [\"ALLOCATABLE\"]\n" +
				"\t\t\tdev_size = 41936896\n\t\t\tpe_start = 2048\n\t\t\tpe_count = 5119\n\t\t}\n\t}\n\n" +
				"\tlogical_volumes {\n\n\t\troot {\n\t\t\tid = \"r00t00-0000-0000-0000-0000-0000-000000\"\n" +
				"\t\t\tstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n\t\t\tsegment_count = 1\n\t\t}\n\t}\n}\n",
		},
	},
	"image_fstab_fail": {
		files: map[string]string{
			"etc/fstab": "/dev/vda2 / ext4 errors=remount-ro 0 1\n" +
				"UUID=0f0e0d0c-0b0a-4908-8706-050403020100 /data xfs defaults 0 2\n" +
				"/dev/mapper/cryptdata /srv ext4 defaults 0 2\n" +
				"/swapfile none swap sw 0 0\n",
			"etc/crypttab": "cryptdata UUID=" + uuidData + " /etc/keys/data.key luks\n",
		},
	},
	"image_fstab_uuid": {
		files: map[string]string{
			"etc/fstab":    "UUID=0f0e0d0c-0b0a-4908-8706-050403020100 / xfs defaults 0 1\nUUID=5e5e5e5e-aaaa-4bbb-8ccc-dddddddddddd none swap defaults 0 0\n",
			"etc/crypttab": "luks-" + uuidRoot + " UUID=" + uuidRoot + " none luks\n",
		},
	},
	"malformed_crypttab": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 3}},
		stacked: []stacked{
			{name: "dm-0", dmName: "luks-root", dmUUID: luksDM("LUKS2", uuidRoot, "luks-root"), slaves: []string{"vda2"}},
			{name: "dm-1", dmName: "cswap", dmUUID: "CRYPT-PLAIN-cswap", slaves: []string{"vda3"}},
		},
		files: map[string]string{
			"proc/mounts": mountsBase + "/dev/mapper/luks-root / ext4 rw,relatime 0 0\n/dev/vda1 /boot ext4 rw,relatime 0 0\n",
			"proc/swaps":  swapsHeader + swapLine("/dev/dm-1", "partition"),
			"etc/crypttab": "# volumes\nluks-root UUID=" + uuidRoot + " none luks\n" +
				"cswap /dev/vda3 /dev/urandom swap cipher=aes-xts-plain64,size=512\n",
		},
		links: map[string]string{"dev/disk/by-uuid/" + uuidRoot: "../../vda2"},
		blobs: map[string][]byte{"dev/vda2": aes256(uuidRoot)},
	},
	"symlink_loop": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 2}, {name: "vdb", dev: "252:16", bus: busVDB, parts: 1}},
		stacked: []stacked{
			{name: "dm-0", dmName: "luks-root", dmUUID: luksDM("LUKS2", uuidRoot, "luks-root"), slaves: []string{"vda2"}},
			{name: "dm-1", dmName: "data", dmUUID: luksDM("LUKS2", uuidData, "data"), slaves: []string{"vdb1"}},
		},
		files: map[string]string{
			"proc/mounts": mountsBase + "/dev/mapper/luks-root / ext4 rw,relatime 0 0\n/dev/vda1 /boot ext4 rw,relatime 0 0\n" +
				"/dev/disk/by-uuid/aaaa-1111 /srv ext4 rw,relatime 0 0\n",
			"proc/swaps":   swapsHeader,
			"etc/crypttab": "luks-root UUID=" + uuidRoot + " none luks\ndata UUID=" + uuidData + " none luks\n",
		},
		links: map[string]string{
			"dev/disk/by-uuid/" + uuidRoot: "../../vda2",
			"dev/disk/by-uuid/aaaa-1111":   "bbbb-2222",
			"dev/disk/by-uuid/bbbb-2222":   "aaaa-1111",
			"dev/disk/by-uuid/" + uuidData: "cccc-3333",
			"dev/disk/by-uuid/cccc-3333":   uuidData,
		},
		blobs: map[string][]byte{"dev/vda2": aes256(uuidRoot), "dev/vdb1": aes256(uuidData)},
	},
	// A corrupt or racing sysfs view: two dm devices each built on the other.
	"cyclic_sysfs": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 1}},
		stacked: []stacked{
			{name: "dm-0", dmName: "a", dmUUID: lvmDM("a"), slaves: []string{"dm-1"}},
			{name: "dm-1", dmName: "b", dmUUID: lvmDM("b"), slaves: []string{"dm-0"}},
		},
		files: map[string]string{
			"proc/mounts": mountsBase + "/dev/mapper/a / ext4 rw,relatime 0 0\n",
			"proc/swaps":  swapsHeader,
		},
	},
	"plain_unknown": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 2}, {name: "vdb", dev: "252:16", bus: busVDB}},
		stacked: []stacked{
			{name: "dm-0", dmName: "luks-root", dmUUID: luksDM("LUKS2", uuidRoot, "luks-root"), slaves: []string{"vda2"}},
			{name: "dm-1", dmName: "scratch", dmUUID: "CRYPT-PLAIN-scratch", slaves: []string{"vdb"}},
		},
		files: map[string]string{
			"proc/mounts": mountsBase + "/dev/mapper/luks-root / ext4 rw,relatime 0 0\n/dev/vda1 /boot ext4 rw,relatime 0 0\n" +
				"/dev/mapper/scratch /scratch ext4 rw,relatime 0 0\n",
			"proc/swaps":   swapsHeader,
			"etc/crypttab": "luks-root UUID=" + uuidRoot + " none luks\nscratch /dev/vdb /etc/keys/scratch.key plain\n",
		},
		links: map[string]string{"dev/disk/by-uuid/" + uuidRoot: "../../vda2"},
		blobs: map[string][]byte{"dev/vda2": aes256(uuidRoot)},
	},
	"header_mismatch": {
		disks: []disk{{name: "vda", dev: "252:0", bus: busVDA, parts: 2}},
		stacked: []stacked{
			{name: "dm-0", dmName: "luks-root", dmUUID: luksDM("LUKS2", uuidRoot, "luks-root"), slaves: []string{"vda2"}},
		},
		files: map[string]string{
			"proc/mounts":  mountsBase + "/dev/mapper/luks-root / ext4 rw,relatime 0 0\n",
			"proc/swaps":   swapsHeader,
			"etc/crypttab": "luks-root /dev/vda2 none luks\n",
		},
		blobs: map[string][]byte{"dev/vda2": aes256(uuidOther)},
	},
}

// build writes the fixture tree f under root.
func (f fixture) build(root string) error {
	sysDirs := map[string]string{} // kernel name -> sysfs directory (relative to root)
	var files [][2]string
	var links [][2]string
	file := func(p, content string) { files = append(files, [2]string{p, content}) }
	link := func(p, target string) { links = append(links, [2]string{p, target}) }
	relLink := func(from, to string) {
		r, err := filepath.Rel(filepath.Dir(from), to)
		if err != nil {
			panic(err)
		}
		link(from, r)
	}
	for _, d := range f.disks {
		dir := "sys/devices/" + d.bus + "/block/" + d.name
		sysDirs[d.name] = dir
		file(dir+"/dev", d.dev+"\n")
		relLink("sys/block/"+d.name, dir)
		file("dev/"+d.name, "")
		if d.backing != "" {
			file(dir+"/loop/backing_file", d.backing+"\n")
		}
		major, minor, _ := strings.Cut(d.dev, ":")
		sep := ""
		if last := d.name[len(d.name)-1]; last >= '0' && last <= '9' {
			sep = "p"
		}
		for i := 1; i <= d.parts; i++ {
			var m int
			fmt.Sscan(minor, &m)
			name := fmt.Sprintf("%s%s%d", d.name, sep, i)
			pdir := dir + "/" + name
			sysDirs[name] = pdir
			file(pdir+"/dev", fmt.Sprintf("%s:%d\n", major, m+i))
			file(pdir+"/partition", fmt.Sprintf("%d\n", i))
			file("dev/"+name, "")
		}
	}
	for _, s := range f.stacked {
		sysDirs[s.name] = "sys/devices/virtual/block/" + s.name
	}
	for _, s := range f.stacked {
		dir := sysDirs[s.name]
		dev := s.dev
		if dev == "" {
			dev = "253:" + strings.TrimPrefix(s.name, "dm-")
		}
		file(dir+"/dev", dev+"\n")
		relLink("sys/block/"+s.name, dir)
		file("dev/"+s.name, "")
		if s.dmName != "" {
			file(dir+"/dm/name", s.dmName+"\n")
			file(dir+"/dm/uuid", s.dmUUID+"\n")
			link("dev/mapper/"+s.dmName, "../"+s.name)
		}
		for _, sl := range s.slaves {
			sdir, ok := sysDirs[sl]
			if !ok {
				return fmt.Errorf("%s: slave %s not declared", s.name, sl)
			}
			relLink(dir+"/slaves/"+sl, sdir)
			relLink(sdir+"/holders/"+s.name, dir)
		}
	}
	for p, c := range f.files {
		file(p, c)
	}
	for p, t := range f.links {
		link(p, t)
	}
	written := map[string]bool{}
	for _, fc := range files {
		content := fc[1]
		if b, ok := f.blobs[fc[0]]; ok {
			content = string(b)
		}
		if err := writeFile(root, fc[0], []byte(content)); err != nil {
			return err
		}
		written[fc[0]] = true
	}
	for p, b := range f.blobs {
		if !written[p] {
			if err := writeFile(root, p, b); err != nil {
				return err
			}
		}
	}
	for _, l := range links {
		full := filepath.Join(root, l[0])
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(l[1], full); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(root, p string, data []byte) error {
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, data, 0o644)
}

// snapshot lists the files and symlinks of a tree (directories are implied,
// as git does not keep empty ones).
func snapshot(root string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "-> " + t
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		}
		return nil
	})
	return out, err
}

func TestFixtures(t *testing.T) {
	names := make([]string, 0, len(fixtureSpecs))
	for name := range fixtureSpecs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := fixtureSpecs[name].build(dir); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := t.TempDir()
			if err := fixtureSpecs[name].build(want); err != nil {
				t.Fatal(err)
			}
			w, err := snapshot(want)
			if err != nil {
				t.Fatal(err)
			}
			g, err := snapshot(dir)
			if err != nil {
				t.Fatalf("%v (run go test -run TestFixtures -update)", err)
			}
			for p, wc := range w {
				if gc, ok := g[p]; !ok {
					t.Errorf("%s/%s missing", dir, p)
				} else if gc != wc {
					t.Errorf("%s/%s differs from its spec", dir, p)
				}
			}
			for p := range g {
				if _, ok := w[p]; !ok {
					t.Errorf("%s/%s is not in the spec", dir, p)
				}
			}
			if t.Failed() {
				t.Log("regenerate with: go test ./checks/families/diskcrypt -run TestFixtures -update")
			}
		})
	}
}
