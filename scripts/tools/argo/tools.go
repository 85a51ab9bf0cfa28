//go:build tools

// Package tools pins the Argo Workflows CLI for scripts/install-tools.sh.
//
// `go install github.com/argoproj/argo-workflows/v3/cmd/argo@v3.6.18` fails against the Go module proxy
// because its deprecation check lists all versions of the module, which the proxy refuses (403) for
// argo-workflows. Building from this tiny module (go.mod pins v3.6.18, go.sum pins every hash) needs no
// version listing and gives the same binary.
package tools

import _ "github.com/argoproj/argo-workflows/v3/cmd/argo"
