package filter

import "strings"

// evaluator checks a decoded payload against part of a resolved filter.
type evaluator interface {
	eval(payload any) bool
}

// build resolves a group for one event type. Keys that do not apply are
// dropped; a $or or $and whose branches all drop is dropped too, so a
// branch written for another event type never matches by default. It
// returns nil when nothing in the group applies.
func (g *group) build(resource string, fields *Fields) evaluator {
	var parts []evaluator
	for _, fc := range g.fields {
		path, r := fc.resolve(resource, fields)
		switch r {
		case readLiteral:
			parts = append(parts, &fieldEval{segs: strings.Split(path, "."), tests: fc.tests})
		case readBound:
			parts = append(parts, &fieldEval{segs: strings.Split(path, "."), tests: []test{fc.bound.test}})
		}
	}
	for _, lc := range g.logic {
		var branches []evaluator
		for _, b := range lc.branches {
			if e := b.build(resource, fields); e != nil {
				branches = append(branches, e)
			}
		}
		switch {
		case len(branches) == 0:
		case len(branches) == 1:
			parts = append(parts, branches[0])
		case lc.or:
			parts = append(parts, orEval(branches))
		default:
			parts = append(parts, andEval(branches))
		}
	}
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	return andEval(parts)
}

// andEval holds when every part holds.
type andEval []evaluator

func (a andEval) eval(payload any) bool {
	for _, e := range a {
		if !e.eval(payload) {
			return false
		}
	}
	return true
}

// orEval holds when any part holds.
type orEval []evaluator

func (o orEval) eval(payload any) bool {
	for _, e := range o {
		if e.eval(payload) {
			return true
		}
	}
	return false
}

// fieldEval checks the value at one payload path against tests, all of
// which must hold. When the path crosses arrays (items.price), it reaches
// one value per element: $ne and $nin must hold for all of them, the
// other operators for at least one, as in MongoDB.
type fieldEval struct {
	segs  []string
	tests []test
}

func (e *fieldEval) eval(payload any) bool {
	cur := payload
	for i, seg := range e.segs {
		switch node := cur.(type) {
		case map[string]any:
			next, ok := node[seg]
			if !ok {
				return e.missing()
			}
			cur = next
		case []any:
			var buf [8]any
			return e.many(collect(node, e.segs[i:], buf[:0]))
		default:
			return e.missing()
		}
	}
	for i := range e.tests {
		if !e.tests[i].eval(cur) {
			return false
		}
	}
	return true
}

// missing decides for a payload without the field: only $exists: false
// holds there.
func (e *fieldEval) missing() bool {
	for _, t := range e.tests {
		if t.op != opExists || t.exists {
			return false
		}
	}
	return true
}

// many decides for the values a path crossing arrays reached.
func (e *fieldEval) many(values []any) bool {
	if len(values) == 0 {
		return e.missing()
	}
	for i := range e.tests {
		t := &e.tests[i]
		if !t.evalMany(values) {
			return false
		}
	}
	return true
}

// collect appends the values found at segs below v, descending into every
// element of the arrays on the way.
func collect(v any, segs []string, out []any) []any {
	if len(segs) == 0 {
		return append(out, v)
	}
	switch node := v.(type) {
	case map[string]any:
		if next, ok := node[segs[0]]; ok {
			return collect(next, segs[1:], out)
		}
	case []any:
		for _, el := range node {
			out = collect(el, segs, out)
		}
	}
	return out
}

// eval applies the test to a value that is present.
func (t *test) eval(v any) bool {
	switch t.op {
	case opEq:
		return t.operand.equal(v)
	case opNe:
		return !t.operand.equal(v)
	case opIn:
		return t.in(v)
	case opNin:
		return !t.in(v)
	case opGt, opGte, opLt, opLte:
		c, ok := t.operand.compare(v)
		if !ok {
			return false
		}
		switch t.op {
		case opGt:
			return c > 0
		case opGte:
			return c >= 0
		case opLt:
			return c < 0
		}
		return c <= 0
	case opExists:
		return t.exists
	}
	return false
}

// evalMany applies the test to several values: negations must hold for
// all of them, the rest for one.
func (t *test) evalMany(values []any) bool {
	all := t.op == opNe || t.op == opNin || (t.op == opExists && !t.exists)
	for _, v := range values {
		if t.eval(v) != all {
			return !all
		}
	}
	return all
}

func (t *test) in(v any) bool {
	for i := range t.list {
		if t.list[i].equal(v) {
			return true
		}
	}
	return false
}
