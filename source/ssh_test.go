package source

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

const sshPassphrase = "key-Passphrase-2718"

// sshServer serves git-upload-pack over SSH on loopback to one authorised key.
type sshServer struct {
	addr    string
	hostKey ssh.PublicKey
}

func newSSHServer(t *testing.T, authorised ssh.PublicKey) *sshServer {
	t.Helper()
	_, hostPrivate, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPrivate)
	if err != nil {
		t.Fatal(err)
	}
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(authorised.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("key not authorised")
		},
	}
	config.AddHostKey(hostSigner)

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	acceptAll(t, listener, func(conn net.Conn) { serveSSH(conn, config) })
	return &sshServer{addr: listener.Addr().String(), hostKey: hostSigner.PublicKey()}
}

// acceptAll serves every connection to listener until the test ends.
func acceptAll(t *testing.T, listener net.Listener, serve func(net.Conn)) {
	t.Helper()
	t.Cleanup(func() { listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go serve(conn)
		}
	}()
}

// serveSSH answers the exec requests of one connection.
func serveSSH(conn net.Conn, config *ssh.ServerConfig) {
	defer conn.Close()
	_, channels, requests, err := ssh.NewServerConn(conn, config)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(requests)
	for newChannel := range channels {
		if newChannel.ChannelType() != "session" {
			_ = newChannel.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		channel, reqs, err := newChannel.Accept()
		if err != nil {
			return
		}
		go serveSession(channel, reqs)
	}
}

// serveSession runs the requested git-upload-pack with the channel as its terminal.
func serveSession(channel ssh.Channel, requests <-chan *ssh.Request) {
	defer channel.Close()
	for req := range requests {
		if req.Type != "exec" || len(req.Payload) < 4 {
			_ = req.Reply(false, nil)
			continue
		}
		command := string(req.Payload[4:])
		service, path, ok := strings.Cut(command, " ")
		if !ok || service != "git-upload-pack" {
			_ = req.Reply(false, nil)
			continue
		}
		_ = req.Reply(true, nil)
		cmd := exec.Command("git", "upload-pack", strings.Trim(path, "'"))
		cmd.Stdin, cmd.Stdout, cmd.Stderr = channel, channel, channel.Stderr()
		status := uint32(0)
		if err := cmd.Run(); err != nil {
			status = 1
		}
		_, _ = channel.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
		return
	}
}

// writeKnownHosts records the server's host key in a known_hosts file named by
// SSH_KNOWN_HOSTS.
func (s *sshServer) writeKnownHosts(t *testing.T, key ssh.PublicKey) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, key)
	writeFile(t, path, line+"\n")
	t.Setenv("SSH_KNOWN_HOSTS", path)
}

// newClientKey writes an ed25519 private key encrypted with sshPassphrase.
func newClientKey(t *testing.T) (path string, public ssh.PublicKey, private ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(sshPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	public, err = ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, public, priv
}

// startAgent serves an SSH agent holding key on a Unix socket named by SSH_AUTH_SOCK.
func startAgent(t *testing.T, key ed25519.PrivateKey) {
	t.Helper()
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(t.TempDir(), "agent.sock")
	listener, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	acceptAll(t, listener, func(conn net.Conn) {
		defer conn.Close()
		_ = agent.ServeAgent(keyring, conn)
	})
	t.Setenv("SSH_AUTH_SOCK", socket)
}

func TestFetchSSH(t *testing.T) {
	repo := newTestRepo(t)
	commit := repo.commit("first", engineFiles(1))
	keyFile, publicKey, privateKey := newClientKey(t)
	server := newSSHServer(t, publicKey)
	url := fmt.Sprintf("ssh://git@%s%s", server.addr, repo.dir)
	_, otherHost, _ := newClientKey(t)

	tests := []struct {
		name    string
		setup   func(t *testing.T)
		wantErr error
		wantSub string
	}{
		{"key file from GIT_SSH_KEY", func(t *testing.T) {
			t.Setenv("GIT_SSH_KEY", keyFile)
			t.Setenv("GIT_SSH_KEY_PASSPHRASE", sshPassphrase)
		}, nil, ""},
		{"agent at SSH_AUTH_SOCK", func(t *testing.T) {
			startAgent(t, privateKey)
		}, nil, ""},
		{"wrong passphrase", func(t *testing.T) {
			t.Setenv("GIT_SSH_KEY", keyFile)
			t.Setenv("GIT_SSH_KEY_PASSPHRASE", "not-the-"+sshPassphrase)
		}, ErrAuth, "GIT_SSH_KEY_PASSPHRASE"},
		{"missing key file", func(t *testing.T) {
			t.Setenv("GIT_SSH_KEY", keyFile+".absent")
		}, ErrAuth, "does not exist"},
		{"no key at all", func(*testing.T) {}, ErrAuth, "SSH_AUTH_SOCK"},
		{"unknown host key", func(t *testing.T) {
			t.Setenv("GIT_SSH_KEY", keyFile)
			t.Setenv("GIT_SSH_KEY_PASSPHRASE", sshPassphrase)
			server.writeKnownHosts(t, otherHost)
		}, ErrAuth, "known_hosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateCredentials(t)
			server.writeKnownHosts(t, server.hostKey)
			tt.setup(t)
			f, logs := newFetcher(t)
			co, err := f.Fetch(context.Background(), Spec{Repo: url, Ref: "main"})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				assertCheckout(t, co, commit, "15.1.4.0")
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantSub) {
				t.Fatalf("Fetch error = %v, want %v mentioning %q", err, tt.wantErr, tt.wantSub)
			}
			t.Log(err)
			for _, text := range []string{err.Error(), logs.String()} {
				if strings.Contains(text, sshPassphrase) {
					t.Errorf("the passphrase appears in %q", text)
				}
			}
			assertNothingLeft(t, f.Root)
		})
	}
}
