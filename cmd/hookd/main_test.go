package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runArgs(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return out.String(), errb.String(), err
}

func TestVersionPrintsModuleAndCommit(t *testing.T) {
	out, _, err := runArgs(t, nil, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "hookd "+version+"\ncommit ") {
		t.Fatalf("version printed %q", out)
	}
}

func TestHelpOfEveryCommandSucceeds(t *testing.T) {
	for _, cmd := range []string{"serve", "token", "listen", "rekey"} {
		_, stderr, err := runArgs(t, nil, cmd, "--help")
		if err != nil {
			t.Errorf("%s --help: %v", cmd, err)
		}
		if !strings.Contains(stderr, "Usage of "+cmd) {
			t.Errorf("%s --help printed %q", cmd, stderr)
		}
	}
}
