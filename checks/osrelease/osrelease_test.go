package osrelease

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Info
		wantErr  bool
	}{
		{
			name: "debian",
			in:   "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
			want: Info{ID: "debian", VersionID: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"},
		},
		{
			name: "rocky with id_like and comment",
			in:   "# comment\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID='9.4'\n",
			want: Info{ID: "rocky", IDLike: []string{"rhel", "centos", "fedora"}, VersionID: "9.4"},
		},
		{name: "no id defaults to linux", in: "VERSION_ID=1\n", want: Info{ID: "linux", VersionID: "1"}},
		{name: "garbage line", in: "ID=debian\nthis is not os-release\n", wantErr: true},
		{name: "unterminated quote", in: "ID=\"debian\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse("/etc/os-release", []byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want error, got %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tt.want.ID || got.VersionID != tt.want.VersionID || got.PrettyName != tt.want.PrettyName || !slices.Equal(got.IDLike, tt.want.IDLike) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMajorVersion(t *testing.T) {
	t.Parallel()
	if got := (Info{VersionID: "9.4"}).MajorVersion(); got != "9" {
		t.Errorf("MajorVersion = %q, want 9", got)
	}
}
