package main

import (
	"runtime/debug"
)

// version and commit are set at build time:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)" ./cmd/strata
//
// Left empty, they come from the module and VCS information Go records in
// the binary.
var (
	version string
	commit  string
)

// buildVersion returns Strata's version and commit.
func buildVersion() (v, c string) {
	v, c = version, commit
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return orUnknown(v), orUnknown(c)
	}
	if v == "" {
		v = info.Main.Version // "(devel)" for a build from a work tree
	}
	if c == "" {
		var modified bool
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				c = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if c != "" && modified {
			c += "-dirty"
		}
	}
	return orUnknown(v), orUnknown(c)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
