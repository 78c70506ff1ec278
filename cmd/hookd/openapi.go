package main

import (
	"encoding/json"
	"flag"
	"io"

	"github.com/hookd/hookd/internal/httpapi"
)

// openapi prints the OpenAPI document the server serves at
// /api/openapi.json, for code generators and linters.
func openapi(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(httpapi.OpenAPIDocument(version))
}
