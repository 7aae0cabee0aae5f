//go:build long

package db

import (
	"context"
	"testing"

	"pstore/plan"
)

// TestSnapshotWritesLittleLong is the size: a map of 131072
// (>= 100,000) entries with a pin per node, one entry changed per input,
// each snapshot under 1% of the state.
func TestSnapshotWritesLittleLong(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, true)
	k := newMapKit(t)
	const depth = 17
	root := k.tree(depth, func(i int) plan.Value { return plan.N(uint64(1_000_000 + i)) })
	if _, err := st.PutPin(root.(*plan.Pin)); err != nil {
		t.Fatal(err)
	}
	full := stored(t, st)
	d := mustCreate(t, st, "m", plan.A(k.M, root), CreateOptions{SnapshotEvery: 1})
	defer d.Close()
	for i := 0; i < 50; i++ {
		before := stored(t, st)
		send(t, d, k.input(depth, (i*7919)%(1<<depth), plan.N(uint64(i))))
		w := stored(t, st) - before
		if w*100 >= full {
			t.Fatalf("input %d with its snapshot wrote %d bytes of a %d-byte state", i, w, full)
		}
		if i == 0 {
			t.Logf("state %d bytes; one input with its snapshot wrote %d bytes (%.3f%%)", full, w, 100*float64(w)/float64(full))
		}
	}
	if _, err := d.ReplayVerify(ctx); err != nil {
		t.Fatal(err)
	}
}
