package source

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// Auth holds the credentials used to fetch. Each empty field is taken from the environment,
// so the zero value reads everything from there:
//
//   - HTTP(S): GIT_USERNAME with GIT_PASSWORD or GIT_TOKEN; else the first entry for the
//     host in the git credential store files ~/.git-credentials and
//     $XDG_CONFIG_HOME/git/credentials (default ~/.config/git/credentials); else the user
//     information in the repository URL.
//   - SSH: the private key file GIT_SSH_KEY, decrypted with GIT_SSH_KEY_PASSPHRASE; else the
//     agent at SSH_AUTH_SOCK. Host keys are checked against SSH_KNOWN_HOSTS or
//     ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts.
//
// Username, Password and environment credentials go only to the host of the repository
// being fetched, never to a submodule on another host, which gets credentials from the
// credential store or its own URL.
type Auth struct {
	// Username is the HTTP user name; it defaults to "git" when only a token is given.
	Username string
	// Password is the HTTP password or access token.
	Password string
	// SSHKeyFile is the path of a private key for SSH.
	SSHKeyFile string
	// SSHKeyPassphrase decrypts SSHKeyFile.
	SSHKeyPassphrase string
}

// remote is a repository as go-git is given it: a URL without secrets, the protocol, the
// auth method, and the secrets that must never appear in a message.
type remote struct {
	url      string
	protocol string
	auth     transport.AuthMethod
	secrets  []string
}

// newRemote prepares repo for go-git. Explicit and environment credentials apply when
// trustedHost is the repository's host; the credential store and the URL always apply.
func (a Auth) newRemote(repo, trustedHost string) (*remote, error) {
	ep, err := transport.NewEndpoint(repo)
	if err != nil {
		return nil, fmt.Errorf("parsing repository URL %q: %w", redactURL(repo), err)
	}
	r := &remote{url: repo, protocol: ep.Protocol}
	switch ep.Protocol {
	case "http", "https":
		return r, a.httpAuth(r, trustedHost)
	case "ssh":
		return r, a.sshAuth(r, ep)
	}
	return r, nil
}

// httpHost returns the host (with port) of an HTTP(S) repository URL, or "" for others.
func httpHost(repo string) string {
	u, err := url.Parse(repo)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.Host
}

// httpAuth strips the user information from r.url and picks the basic-auth credentials.
func (a Auth) httpAuth(r *remote, trustedHost string) error {
	u, err := url.Parse(r.url)
	if err != nil {
		return fmt.Errorf("parsing repository URL %q: %w", redactURL(r.url), err)
	}
	urlUser, urlPassword := "", ""
	if u.User != nil {
		urlUser = u.User.Username()
		urlPassword, _ = u.User.Password()
		u.User = nil
	}
	r.url = u.String()

	user, password := a.httpFromEnv()
	if user == "" || u.Host != trustedHost {
		user, password = credentialStore(u, urlUser)
	}
	if user == "" && urlUser != "" {
		user, password = urlUser, urlPassword
	}
	if user == "" {
		return nil
	}
	r.auth = &githttp.BasicAuth{Username: user, Password: password}
	r.secrets = append(r.secrets, password, urlPassword)
	if urlPassword == "" && urlUser != "" {
		// A token is often given as the user name alone: treat it as a secret too.
		r.secrets = append(r.secrets, urlUser)
	}
	return nil
}

// httpFromEnv returns the explicit credentials, else those of the environment.
func (a Auth) httpFromEnv() (user, password string) {
	user, password = a.Username, a.Password
	if password == "" {
		user = os.Getenv("GIT_USERNAME")
		password = os.Getenv("GIT_PASSWORD")
		if password == "" {
			password = os.Getenv("GIT_TOKEN")
		}
	}
	if password == "" {
		return "", ""
	}
	if user == "" {
		user = "git"
	}
	return user, password
}

// credentialStore looks u up in git's credential store files, the way git's "store" helper
// does: the first entry with the same scheme and host (and user, when u names one) wins.
func credentialStore(u *url.URL, user string) (string, string) {
	for _, path := range credentialFiles() {
		if login, password := lookupCredentials(path, u, user); login != "" {
			return login, password
		}
	}
	return "", ""
}

// credentialFiles lists the store files in the order git reads them.
func credentialFiles() []string {
	var files []string
	home, err := os.UserHomeDir()
	if err == nil {
		files = append(files, filepath.Join(home, ".git-credentials"))
	}
	if xdg := os.Getenv("XDG_CONFIG_HOME"); xdg != "" {
		files = append(files, filepath.Join(xdg, "git", "credentials"))
	} else if home != "" {
		files = append(files, filepath.Join(home, ".config", "git", "credentials"))
	}
	return files
}

// lookupCredentials scans one store file; a missing or unreadable file matches nothing.
func lookupCredentials(path string, u *url.URL, user string) (string, string) {
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()

	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		entry, err := url.Parse(strings.TrimSpace(scanner.Text()))
		if err != nil || entry.User == nil {
			continue
		}
		if !strings.EqualFold(entry.Scheme, u.Scheme) || !strings.EqualFold(entry.Host, u.Host) {
			continue
		}
		if user != "" && entry.User.Username() != user {
			continue
		}
		password, _ := entry.User.Password()
		return entry.User.Username(), password
	}
	return "", ""
}

// sshAuth picks the key file or the agent for an SSH repository.
func (a Auth) sshAuth(r *remote, ep *transport.Endpoint) error {
	if ep.Password != "" {
		r.secrets = append(r.secrets, ep.Password)
	}
	user := ep.User
	if user == "" {
		user = gitssh.DefaultUsername
	}

	keyFile, passphrase := a.SSHKeyFile, a.SSHKeyPassphrase
	if keyFile == "" {
		keyFile = os.Getenv("GIT_SSH_KEY")
		passphrase = os.Getenv("GIT_SSH_KEY_PASSPHRASE")
	}
	if keyFile != "" {
		r.secrets = append(r.secrets, passphrase)
		keys, err := gitssh.NewPublicKeysFromFile(user, keyFile, passphrase)
		if err != nil {
			return sshKeyError(keyFile, err)
		}
		r.auth = keys
		return nil
	}
	if os.Getenv("SSH_AUTH_SOCK") != "" {
		agent, err := gitssh.NewSSHAgentAuth(user)
		if err != nil {
			return fmt.Errorf("%w: connecting to the SSH agent: %w", ErrAuth, err)
		}
		r.auth = agent
	}
	return nil
}

// sshKeyError explains a key file that could not be used.
func sshKeyError(keyFile string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: reading SSH key %q: the file does not exist (GIT_SSH_KEY)",
			ErrAuth, keyFile)
	}
	return fmt.Errorf("%w: reading SSH key %q: %w (check GIT_SSH_KEY_PASSPHRASE)",
		ErrAuth, keyFile, err)
}
