// Command pstore is the command line of the pstore content-addressed PLAN
// store. See `pstore help` and README.md.
package main

import (
	"os"

	"pstore/cli"
)

func main() {
	ctx, stop := cli.SignalContext()
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}
