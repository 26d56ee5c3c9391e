package source

import (
	"path/filepath"
	"testing"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

func TestHTTPCredentialChoice(t *testing.T) {
	tests := []struct {
		name        string
		auth        Auth
		env         map[string]string
		store       string
		repo        string
		trustedHost string
		wantUser    string // "" for no credentials
		wantPass    string
	}{
		{name: "explicit credentials win over the environment",
			auth: Auth{Username: "ci", Password: "explicit-pw"},
			env:  map[string]string{"GIT_USERNAME": "env", "GIT_PASSWORD": "env-pw"},
			repo: "https://a.example/x.git", trustedHost: "a.example",
			wantUser: "ci", wantPass: "explicit-pw"},
		{name: "token alone gets the user git",
			env:  map[string]string{"GIT_TOKEN": "tok-123"},
			repo: "https://a.example/x.git", trustedHost: "a.example",
			wantUser: "git", wantPass: "tok-123"},
		{name: "environment wins over the store",
			env:   map[string]string{"GIT_USERNAME": "env", "GIT_PASSWORD": "env-pw"},
			store: "https://stored:store-pw@a.example\n",
			repo:  "https://a.example/x.git", trustedHost: "a.example",
			wantUser: "env", wantPass: "env-pw"},
		{name: "environment is not sent to another host",
			env:  map[string]string{"GIT_USERNAME": "env", "GIT_PASSWORD": "env-pw"},
			repo: "https://b.example/sub.git", trustedHost: "a.example"},
		{name: "another host still uses the store",
			env:   map[string]string{"GIT_USERNAME": "env", "GIT_PASSWORD": "env-pw"},
			store: "https://stored:store-pw@b.example\n",
			repo:  "https://b.example/sub.git", trustedHost: "a.example",
			wantUser: "stored", wantPass: "store-pw"},
		{name: "store entry must match scheme, host and port",
			store: "http://s:1@a.example\nhttps://s:2@a.example:8443\nhttps://s:3@a.example\n",
			repo:  "https://a.example/x.git", trustedHost: "a.example",
			wantUser: "s", wantPass: "3"},
		{name: "store entry must match the user named in the URL",
			store: "https://bob:bob-pw@a.example\nhttps://alice:alice-pw@a.example\n",
			repo:  "https://alice@a.example/x.git", trustedHost: "a.example",
			wantUser: "alice", wantPass: "alice-pw"},
		{name: "store wins over the URL",
			store: "https://u:store-pw@a.example\n",
			repo:  "https://u:url-pw@a.example/x.git", trustedHost: "a.example",
			wantUser: "u", wantPass: "store-pw"},
		{name: "URL credentials last",
			repo: "https://u:url-pw@a.example/x.git", trustedHost: "a.example",
			wantUser: "u", wantPass: "url-pw"},
		{name: "nothing anywhere",
			repo: "https://a.example/x.git", trustedHost: "a.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := isolateCredentials(t)
			for name, value := range tt.env {
				t.Setenv(name, value)
			}
			if tt.store != "" {
				writeFile(t, filepath.Join(home, ".git-credentials"), tt.store)
			}
			r, err := tt.auth.newRemote(tt.repo, tt.trustedHost)
			if err != nil {
				t.Fatal(err)
			}
			if redactURL(r.url) != r.url {
				t.Errorf("URL given to go-git still holds credentials: %q", r.url)
			}
			basic, _ := r.auth.(*githttp.BasicAuth)
			if tt.wantUser == "" {
				if r.auth != nil {
					t.Errorf("auth = %v, want none", r.auth)
				}
				return
			}
			if basic == nil || basic.Username != tt.wantUser || basic.Password != tt.wantPass {
				t.Errorf("auth = %+v, want %s:%s", basic, tt.wantUser, tt.wantPass)
			}
		})
	}
}
