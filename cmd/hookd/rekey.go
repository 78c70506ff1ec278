package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/hookd"
)

// rekeyer is a store that can re-seal its secrets with another key.
type rekeyer interface {
	Rekey(ctx context.Context, newCipher hookd.Cipher) (int64, error)
}

// rekey re-encrypts every secret in the database (webhook secrets, header
// values, integration credentials) from one key to another. hookd must
// be stopped while it runs.
func rekey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rekey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbDefault := getenv("HOOKD_DATABASE_URL")
	if dbDefault == "" {
		dbDefault = "sqlite:hookd.db"
	}
	dbURL := fs.String("database-url", dbDefault, "database to re-encrypt ($HOOKD_DATABASE_URL)")
	oldB64 := fs.String("old-key", getenv("HOOKD_ENCRYPTION_KEY"),
		"base64 of the 32-byte key the secrets are encrypted with now ($HOOKD_ENCRYPTION_KEY; default: the key file beside the SQLite database)")
	newB64 := fs.String("new-key", "", "base64 of the 32-byte key to encrypt them with (required; e.g. openssl rand -base64 32)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := &config.Config{DatabaseURL: *dbURL}
	newKey, err := decodeKey("--new-key", *newB64)
	if err != nil {
		return err
	}
	keyFile := "" // set when the old key comes from the key file, which then gets the new key
	var oldKey []byte
	switch {
	case *oldB64 != "":
		if oldKey, err = decodeKey("--old-key", *oldB64); err != nil {
			return err
		}
	case cfg.IsPostgres():
		return errors.New("rekey: --old-key (or HOOKD_ENCRYPTION_KEY) is required with PostgreSQL")
	default:
		keyFile = keyFilePath(cfg.SQLitePath())
		if _, err := os.Stat(keyFile); err != nil {
			return fmt.Errorf("rekey: no --old-key given and no key file at %s", keyFile)
		}
		if oldKey, err = crypto.LoadOrCreateKeyFile(keyFile); err != nil {
			return fmt.Errorf("rekey: %w", err)
		}
	}
	if !cfg.IsPostgres() {
		if _, err := os.Stat(cfg.SQLitePath()); err != nil {
			return fmt.Errorf("rekey: no database at %s", cfg.SQLitePath())
		}
	}
	newBox, err := crypto.New(newKey)
	if err != nil {
		return err
	}
	cfg.EncryptionKey = oldKey
	db, err := openStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return fmt.Errorf("rekey: %w", err)
	}
	st := db.store
	defer st.Close()
	r, ok := st.(rekeyer)
	if !ok {
		return errors.New("rekey: this database cannot be re-encrypted")
	}
	n, err := r.Rekey(ctx, newBox)
	if err != nil {
		return fmt.Errorf("rekey: nothing was changed: %w", err)
	}
	if err := st.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-encrypted the secrets of %d webhooks and integrations with the new key\n", n)
	if keyFile != "" {
		if err := writeKeyFile(keyFile, newKey); err != nil {
			return fmt.Errorf("rekey: the database uses the new key, but writing %s failed (set HOOKD_ENCRYPTION_KEY to the new key): %w", keyFile, err)
		}
		fmt.Fprintf(stdout, "the key file %s now holds the new key\n", keyFile)
		return nil
	}
	fmt.Fprintln(stdout, "start hookd with HOOKD_ENCRYPTION_KEY set to the new key")
	return nil
}

// decodeKey reads a base64 key of 32 bytes.
func decodeKey(flagName, b64 string) ([]byte, error) {
	if b64 == "" {
		return nil, fmt.Errorf("rekey: %s is required", flagName)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("rekey: %s must be base64 of exactly 32 bytes", flagName)
	}
	return key, nil
}

// keyFilePath is where serve keeps the key of a SQLite database when
// HOOKD_ENCRYPTION_KEY is unset.
func keyFilePath(dbPath string) string {
	return filepath.Join(filepath.Dir(dbPath), filepath.Base(dbPath)+".key")
}

// writeKeyFile replaces a key file atomically (write, sync, rename).
func writeKeyFile(path string, key []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
