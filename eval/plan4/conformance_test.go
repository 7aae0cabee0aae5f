package plan4

import (
	"path/filepath"
	"testing"

	"pstore/eval/evaltest"
)

// TestVectorsConformance runs vectors/plan4/cases.tsv through the shared
// conformance runner (the same one pallas runs its vectors with), jets on,
// with <Name.seed> standing for the normal-form pin the file evaluates to
// (seedRef). TestVectors runs the same cases with jets off.
func TestVectorsConformance(t *testing.T) {
	evaltest.RunVectors(t, Evaluator{}, filepath.Join(vectorDir, "cases.tsv"), seedRef)
}
