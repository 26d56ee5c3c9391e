package source

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func TestDir(t *testing.T) {
	f := &Fetcher{Root: "/work/sources"}
	tests := []struct {
		name string
		spec Spec
		want string // regular expression for the base name
	}{
		{"https", Spec{"https://github.com/ApsaraDB/PolarDB-for-PostgreSQL.git",
			"POLARDB_15_STABLE"},
			`^github\.com_ApsaraDB_PolarDB-for-PostgreSQL-POLARDB_15_STABLE-[0-9a-f]{8}$`},
		{"scp-like ssh", Spec{"git@github.com:ApsaraDB/PolarDB-for-PostgreSQL.git", "v15"},
			`^github\.com_ApsaraDB_PolarDB-for-PostgreSQL-v15-[0-9a-f]{8}$`},
		{"ssh URL with port", Spec{"ssh://git@git.example.com:2222/db/engine", "main"},
			`^git\.example\.com_2222_db_engine-main-[0-9a-f]{8}$`},
		{"local path", Spec{"/srv/git/engine.git", "feature/x"},
			`^srv_git_engine-feature_x-[0-9a-f]{8}$`},
		{"file URL", Spec{"file:///srv/git/engine", "main"},
			`^srv_git_engine-main-[0-9a-f]{8}$`},
		{"long ref is cut", Spec{"/e", strings.Repeat("r", 300)},
			`^e-r{98}-[0-9a-f]{8}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := f.Dir(tt.spec)
			if !strings.HasPrefix(dir, "/work/sources/") {
				t.Errorf("Dir = %q, want it under the root", dir)
			}
			base := dir[len("/work/sources/"):]
			if !regexp.MustCompile(tt.want).MatchString(base) {
				t.Errorf("Dir base = %q, want a match for %s", base, tt.want)
			}
			if again := f.Dir(tt.spec); again != dir {
				t.Errorf("Dir is not deterministic: %q then %q", dir, again)
			}
		})
	}
}

func TestDirDistinguishesSpecs(t *testing.T) {
	f := &Fetcher{Root: "/w"}
	specs := []Spec{
		{"https://github.com/a/b", "main"},
		{"https://github.com/a/b", "POLARDB_15_STABLE"},
		{"https://github.com/a/c", "main"},
		{"https://gitlab.com/a/b", "main"},
		// Same readable form, different repository: the hash must keep them apart.
		{"https://github.com/a_b", "main"},
		{"https://github.com/a/b-main", ""},
	}
	seen := make(map[string]Spec)
	for _, s := range specs {
		dir := f.Dir(s)
		if other, ok := seen[dir]; ok {
			t.Errorf("%v and %v share the directory %q", s, other, dir)
		}
		seen[dir] = s
	}
	withCredentials := Spec{"https://user:s3cret-x@github.com/a/b", "main"}
	if f.Dir(withCredentials) != f.Dir(specs[0]) {
		t.Error("credentials in the URL change the checkout directory")
	}
	if strings.Contains(f.Dir(withCredentials), "s3cret") {
		t.Errorf("Dir %q shows the password", f.Dir(withCredentials))
	}
}

func TestSpecStringRedacts(t *testing.T) {
	tests := []struct {
		repo, want string
	}{
		{"https://user:s3cret-x@github.com/a/b.git",
			"https://***@github.com/a/b.git@main"},
		{"https://ghp_tokenOnly123@github.com/a/b.git",
			"https://***@github.com/a/b.git@main"},
		{"ssh://git@github.com/a/b.git", "ssh://git@github.com/a/b.git@main"},
		{"ssh://git:s3cret-x@github.com/a/b.git", "ssh://***@github.com/a/b.git@main"},
		{"git@github.com:a/b.git", "git@github.com:a/b.git@main"},
		{"/srv/engine", "/srv/engine@main"},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			if got := (Spec{Repo: tt.repo, Ref: "main"}).String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRedactMasksSecretsInText(t *testing.T) {
	text := `Get "https://u:pw-1234@h/x": refused for pw-1234 and abc`
	got := redact(text, []string{"pw-1234", "abc", ""})
	want := `Get "https://***@h/x": refused for *** and abc`
	if got != want {
		t.Errorf("redact = %q, want %q (secrets under four characters stay)", got, want)
	}
}

func TestFetchSameSpecConcurrently(t *testing.T) {
	repo := newTestRepo(t)
	commit := repo.commit("first", engineFiles(1))
	f, logs := newFetcher(t)
	spec := Spec{Repo: repo.url(), Ref: "main"}

	var wg sync.WaitGroup
	results := make([]*Checkout, 4)
	errs := make([]error, len(results))
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = f.Fetch(context.Background(), spec)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Fetch %d: %v", i, err)
		}
		assertCheckout(t, results[i], commit, "15.1.4.0")
	}
	if n := strings.Count(logs.String(), "msg=cloning"); n != 1 {
		t.Errorf("cloned %d times, want once:\n%s", n, logs)
	}
}
