package main

import (
	"fmt"
	"runtime/debug"
)

// version is the module version of this build ("v1.2.3" from go install
// …@v1.2.3, a pseudo-version or "devel" from a checkout), unless
// -ldflags "-X main.version=…" set it. It also names hookd in User-Agent
// headers and /healthz.
var version = moduleVersion()

// moduleVersion reads the version go stamped into the binary.
func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// buildDescription is what hookd version prints: the module version, the
// VCS commit (with "+dirty" for uncommitted changes) and the Go version.
func buildDescription() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "hookd " + version
	}
	commit, modified, at := "unknown", false, ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		case "vcs.time":
			at = s.Value
		}
	}
	if modified {
		commit += "+dirty"
	}
	out := fmt.Sprintf("hookd %s\ncommit %s", version, commit)
	if at != "" {
		out += " (" + at + ")"
	}
	return out + "\n" + bi.GoVersion
}
