package pallas_test

import (
	"context"
	"errors"
	"testing"

	"pstore/eval"
	"pstore/eval/evaltest"
	"pstore/eval/pallas"
	"pstore/plan"
	"pstore/seed"
)

const vectorDir = "../../../shared/vectors/pallas"

// seedRef reads Pallas seed files as their raw, unevaluated trees (PLAN.md
// 2.4).
var seedRef = evaltest.SeedDir(vectorDir, func(data []byte) (plan.Value, error) {
	return seed.Decode(data, seed.Pallas, nil)
})

// seedRefNormal substitutes the normal form of each tree instead
// (seed.FromPallas); the README says both give the same results.
var seedRefNormal = evaltest.SeedDir(vectorDir, func(data []byte) (plan.Value, error) {
	t, err := seed.Decode(data, seed.Pallas, nil)
	if err != nil {
		return nil, err
	}
	return seed.FromPallas(t)
})

func TestVectors(t *testing.T) {
	evaltest.RunVectors(t, pallas.Evaluator{}, vectorDir+"/cases.tsv", seedRef)
}

func TestVectorsNormalSeeds(t *testing.T) {
	evaltest.RunVectors(t, pallas.Evaluator{}, vectorDir+"/cases.tsv", seedRefNormal)
}

func TestVectorsNoJets(t *testing.T) {
	evaltest.RunVectors(t, noJets{}, vectorDir+"/cases.tsv", seedRef)
}

// noJets is the pallas evaluator with Options.NoJets forced on.
type noJets struct{ pallas.Evaluator }

func (n noJets) Eval(ctx context.Context, v plan.Value, o eval.Options) (eval.Result, error) {
	o.NoJets = true
	return n.Evaluator.Eval(ctx, v, o)
}

func asStopped(err error, se **eval.StoppedError) bool { return errors.As(err, se) }
