package plan4

import (
	"context"
	"path/filepath"
	"testing"

	"pstore/eval"
	"pstore/eval/evaltest"
	"pstore/plan"
)

// TestVectorsConformance runs vectors/plan4/cases.tsv through the shared
// conformance runner (the same one pallas runs its vectors with), with
// <Name.seed> standing for the normal-form pin the file evaluates to.
func TestVectorsConformance(t *testing.T) {
	seedRef := evaltest.SeedDir(vectorDir, func(data []byte) (plan.Value, error) {
		return LoadSeed(context.Background(), data, eval.Options{})
	})
	evaltest.RunVectors(t, Evaluator{}, filepath.Join(vectorDir, "cases.tsv"), seedRef)
}
