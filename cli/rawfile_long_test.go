//go:build long

package cli

import "testing"

func TestRawRoundTrip1GiB(t *testing.T) { rawRoundTrip(t, 1<<30) }
