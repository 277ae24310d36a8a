package lin

import (
	"testing"

	"github.com/anishathalye/porcupine"
)

// TestModelRejectsStaleRead checks the checker itself: a Get that starts
// after a Put returned and does not see it is not linearizable, nor is a
// write whose revision skips one.
func TestModelRejectsStaleRead(t *testing.T) {
	nm := porcupine.NondeterministicModel{Init: func() []any { return []any{state{rev: 1}} }, Step: step, Hash: hashState}
	m := nm.ToModel()
	put := porcupine.Operation{ClientId: 0, Input: input{kind: opPut, key: 0, value: "a"}, Call: 0, Output: output{rev: 2}, Return: 10}
	fresh := porcupine.Operation{ClientId: 1, Input: input{kind: opGet, key: 0}, Call: 20,
		Output: output{rev: 2, kvs: [3]kv{{value: "a", create: 2, mod: 2, ver: 1}}}, Return: 30}
	stale := porcupine.Operation{ClientId: 1, Input: input{kind: opGet, key: 0}, Call: 20, Output: output{rev: 1}, Return: 30}
	skipped := porcupine.Operation{ClientId: 0, Input: input{kind: opPut, key: 0, value: "a"}, Call: 0, Output: output{rev: 3}, Return: 10}
	cases := []struct {
		name    string
		history []porcupine.Operation
		want    bool
	}{
		{"fresh read", []porcupine.Operation{put, fresh}, true},
		{"stale read", []porcupine.Operation{put, stale}, false},
		{"revision gap", []porcupine.Operation{skipped}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := porcupine.CheckOperations(m, c.history); got != c.want {
				t.Fatalf("linearizable = %v, want %v", got, c.want)
			}
		})
	}
}
