package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/crypto"
)

// devSecretPath is where --dev keeps its JWT secret: beside the SQLite
// database, as the encryption key file, so tokens outlive a restart.
func devSecretPath(dbPath string) string { return dbPath + ".jwt-secret" }

// devJWTSecret returns the JWT secret --dev runs with: read from the file
// beside the SQLite database, or created there (mode 0600) on the first
// start. On PostgreSQL there is no such place: a new secret each start.
func devJWTSecret(cfg *config.Config) (secret, path string, err error) {
	if cfg.IsPostgres() {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", "", err
		}
		return base64.StdEncoding.EncodeToString(b), "", nil
	}
	path = devSecretPath(cfg.SQLitePath())
	// The file holds base64 of 32 random bytes, exactly like a key file;
	// that text is the secret.
	key, err := crypto.LoadOrCreateKeyFile(path)
	if err != nil {
		return "", "", fmt.Errorf("development JWT secret: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), path, nil
}
