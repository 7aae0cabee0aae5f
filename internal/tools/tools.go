//go:build tools

// Package tools pins the module's direct dependencies in go.mod before every
// package that uses them exists, so that concurrent work on separate packages
// never races on go.mod. It is never built.
package tools

import (
	_ "github.com/anacrolix/torrent"
	_ "github.com/ipfs/go-cid"
	_ "github.com/multiformats/go-multihash"
	_ "github.com/spf13/pflag"
	_ "github.com/zeebo/blake3"
	_ "golang.org/x/sys/unix"
)
