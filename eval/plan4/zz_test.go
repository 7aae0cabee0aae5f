package plan4

import (
	"os"
	"testing"

	"pstore/eval"
)

func TestZZ(t *testing.T) {
	src := os.Getenv("ZZ")
	v, err := evalStr(t, src, eval.Options{Steps: 100000})
	t.Log(v, err)
}
