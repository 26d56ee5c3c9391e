package tag

import (
	"testing"
	"time"

	"github.com/polardb/imagebuilder/version"
)

func TestEngine(t *testing.T) {
	committed := time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		name string
		info version.Info
		want string
	}{
		{
			name: "polardb layout",
			info: version.Info{Full: "15.14.4.0", ReleaseDate: "20250101"},
			want: "15.14.4.0.20250101.0123abcd.20250101190405",
		},
		{
			name: "old layout without release date uses commit date",
			info: version.Info{Full: "11.9"},
			want: "11.9.20250101.0123abcd.20250101190405",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Engine(tt.info, "0123abcdef0123abcdef0123abcdef0123abcdef", committed)
			if got != tt.want {
				t.Errorf("Engine = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestManager(t *testing.T) {
	early := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	late := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name            string
		commit          string
		project, engine time.Time
		want            string
	}{
		{"project newer", "fedcba9876543210", late, early, "20250506070809.fedcba98"},
		{"engine newer", "fedcba9876543210", early, late, "20250506070809.fedcba98"},
		{"not a git project", "", early, early, "20240506070809.unversioned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Manager(tt.commit, tt.project, tt.engine); got != tt.want {
				t.Errorf("Manager = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFullName(t *testing.T) {
	tests := []struct {
		name, image, tag, want string
	}{
		{"adds tag", "polardb_pg/engine", "15.1", "polardb_pg/engine:15.1"},
		{"keeps explicit tag", "polardb_pg/engine:latest", "15.1", "polardb_pg/engine:latest"},
		{"registry with port", "127.0.0.1:5000/pg/engine", "15.1", "127.0.0.1:5000/pg/engine:15.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FullName(tt.image, tt.tag)
			if err != nil || got != tt.want {
				t.Errorf("FullName = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := FullName("org/engine", "bad tag"); err == nil {
		t.Error("FullName accepted a tag with a space")
	}
}
