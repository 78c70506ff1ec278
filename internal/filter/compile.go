package filter

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hookd/hookd/internal/hookd"
)

// Limits on a filters document.
const (
	// MaxKeys is the most keys a filters object may hold in total, counting
	// every field key and every $or/$and at any depth.
	MaxKeys = 50
	// MaxDepth is the most levels of $or/$and nesting.
	MaxDepth = 5
	// MaxListLen is the most values a list, $in or $nin may hold.
	MaxListLen = 100
	// maxKeyLen bounds the length of one field key.
	maxKeyLen = 256
)

// opKind is a comparison operator.
type opKind uint8

const (
	opEq opKind = iota
	opNe
	opIn
	opNin
	opGt
	opGte
	opLt
	opLte
	opExists
)

// operatorNames lists the operators a value object may use, in the order
// error messages show them.
func operatorNames() [9]string {
	return [...]string{"$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$exists"}
}

// operatorByName returns the operator spelled name.
func operatorByName(name string) (opKind, bool) {
	for i, n := range operatorNames() {
		if n == name {
			return opKind(i), true
		}
	}
	return 0, false
}

// test is one operator applied to a field's value.
type test struct {
	op      opKind
	operand operand   // $eq $ne $gt $gte $lt $lte
	list    []operand // $in $nin
	exists  bool      // $exists
}

// fieldCond is one field key of a filters object, compiled but not yet
// resolved against an event type's schema: the key may name a path as
// written, with the event's resource as prefix, or as a min_/max_ bound.
type fieldCond struct {
	key   string  // as written
	field string  // its error path, such as "filters.$or.0.amount"
	tests []test  // the key read as a field name; all must hold
	bound *bound  // the key read as min_<field>/max_<field>; nil without such a prefix
	value operand // the value as written, for messages
}

// bound is the min_/max_ reading of a key.
type bound struct {
	rest    string // the key without "min_"/"max_"
	max     bool
	numeric bool // the value is a plain number, so the bound form is usable
	test    test // $gte or $lte the value
}

// logicCond is a $or or $and of filter objects.
type logicCond struct {
	or       bool
	branches []*group
}

// group is one filters object: all its conditions must hold.
type group struct {
	fields []*fieldCond
	logic  []*logicCond
}

// each calls fn for every field condition in g and below.
func (g *group) each(fn func(*fieldCond)) {
	for _, fc := range g.fields {
		fn(fc)
	}
	for _, lc := range g.logic {
		for _, b := range lc.branches {
			b.each(fn)
		}
	}
}

// compiler collects every problem of one filters document.
type compiler struct {
	details []hookd.FieldError
	keys    int
}

func (c *compiler) fail(field, format string, args ...any) {
	c.details = append(c.details, hookd.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// group compiles one filters object found at path; depth counts the
// $or/$and levels above it.
func (c *compiler) group(obj object, path string, depth int) *group {
	g := &group{}
	seen := make(map[string]bool, len(obj))
	for _, m := range obj {
		field := path + "." + m.key
		c.keys++
		if seen[m.key] {
			c.fail(field, "duplicate key %q", m.key)
			continue
		}
		seen[m.key] = true
		switch {
		case m.key == "$or" || m.key == "$and":
			if lc := c.logic(m, field, depth); lc != nil {
				g.logic = append(g.logic, lc)
			}
		case strings.HasPrefix(m.key, "$"):
			c.fail(field, "unknown operator %q: only $or and $and may stand where a field name goes", m.key)
		default:
			if fc := c.fieldCond(m.key, m.value, field); fc != nil {
				g.fields = append(g.fields, fc)
			}
		}
	}
	return g
}

// logic compiles "$or"/"$and": a non-empty array of non-empty filter objects.
func (c *compiler) logic(m member, field string, depth int) *logicCond {
	arr, ok := m.value.([]any)
	if !ok || len(arr) == 0 {
		c.fail(field, "%s must be a non-empty array of filter objects", m.key)
		return nil
	}
	if depth+1 > MaxDepth {
		c.fail(field, "filters may nest $or/$and at most %d levels deep", MaxDepth)
		return nil
	}
	lc := &logicCond{or: m.key == "$or"}
	for i, el := range arr {
		branchField := fmt.Sprintf("%s.%d", field, i)
		obj, ok := el.(object)
		if !ok {
			c.fail(branchField, "%s must be a non-empty array of filter objects; this element is %s", m.key, kindOf(el))
			continue
		}
		if len(obj) == 0 {
			c.fail(branchField, "%s must be a non-empty array of filter objects; this object is empty", m.key)
			continue
		}
		lc.branches = append(lc.branches, c.group(obj, branchField, depth+1))
	}
	return lc
}

// fieldCond compiles a field key and its value: a list ("in"), an operator
// object, or a literal to equal.
func (c *compiler) fieldCond(key string, value any, field string) *fieldCond {
	if msg := checkKey(key); msg != "" {
		c.fail(field, "%s", msg)
		return nil
	}
	fc := &fieldCond{key: key, field: field, value: newOperand(value)}
	ok := true
	switch v := value.(type) {
	case object:
		if len(v) == 0 {
			c.fail(field, `an empty object is not a condition: use operators such as {"$gte": 1}, or {"$eq": {}} to match an empty object`)
			return nil
		}
		if hasOperator(v) {
			fc.tests, ok = c.operators(v, field)
		} else {
			fc.tests = []test{{op: opEq, operand: fc.value}}
		}
	case []any:
		var list []operand
		list, ok = c.list(v, field, "a list")
		fc.tests = []test{{op: opIn, list: list}}
	default:
		fc.tests = []test{{op: opEq, operand: fc.value}}
	}
	if !ok {
		return nil
	}
	for _, prefix := range []string{"min_", "max_"} {
		if rest, found := strings.CutPrefix(key, prefix); found && rest != "" {
			b := &bound{rest: rest, max: prefix == "max_", numeric: fc.value.kind == kindNumber}
			b.test = test{op: opGte, operand: fc.value}
			if b.max {
				b.test.op = opLte
			}
			fc.bound = b
		}
	}
	return fc
}

// checkKey returns why key is not a usable field path, or "".
func checkKey(key string) string {
	switch {
	case key == "":
		return "a field name must not be empty"
	case len(key) > maxKeyLen:
		return fmt.Sprintf("a field name must be at most %d characters", maxKeyLen)
	}
	for _, seg := range strings.Split(key, ".") {
		if seg == "" {
			return fmt.Sprintf("%q is not a valid field path: separate names with single dots, as in customer.id", key)
		}
	}
	return ""
}

// hasOperator reports whether an object value is an operator object (any
// key starting with "$") rather than a literal to compare with.
func hasOperator(obj object) bool {
	for _, m := range obj {
		if strings.HasPrefix(m.key, "$") {
			return true
		}
	}
	return false
}

// operators compiles an operator object such as {"$gte": 1, "$lt": 5}.
func (c *compiler) operators(obj object, field string) ([]test, bool) {
	tests := make([]test, 0, len(obj))
	seen := map[string]bool{}
	ok := true
	names := operatorNames()
	supported := strings.Join(names[:], " ")
	for _, m := range obj {
		op, known := operatorByName(m.key)
		switch {
		case !strings.HasPrefix(m.key, "$"):
			c.fail(field, "%q: an operator object may hold only operators (%s); use a dotted path to reach nested fields",
				m.key, supported)
			ok = false
			continue
		case !known:
			c.fail(field, "unknown operator %q (use %s)", m.key, supported)
			ok = false
			continue
		case seen[m.key]:
			c.fail(field, "duplicate operator %q", m.key)
			ok = false
			continue
		}
		seen[m.key] = true
		t, good := c.operator(op, m, field)
		ok = ok && good
		tests = append(tests, t)
	}
	return tests, ok
}

// operator compiles one operator and its operand.
func (c *compiler) operator(op opKind, m member, field string) (test, bool) {
	t := test{op: op}
	switch op {
	case opEq, opNe:
		t.operand = newOperand(m.value)
	case opIn, opNin:
		arr, isArr := m.value.([]any)
		if !isArr {
			c.fail(field, "%s must be an array of values, not %s", m.key, kindOf(m.value))
			return t, false
		}
		list, ok := c.list(arr, field, m.key)
		t.list = list
		return t, ok
	case opGt, opGte, opLt, opLte:
		t.operand = newOperand(m.value)
		if k := t.operand.kind; k != kindNumber && k != kindString {
			c.fail(field, "%s needs a number or a string, not %s", m.key, k)
			return t, false
		}
	case opExists:
		b, isBool := m.value.(bool)
		if !isBool {
			c.fail(field, "$exists must be true or false, not %s", kindOf(m.value))
			return t, false
		}
		t.exists = b
	}
	return t, true
}

// list compiles the values of a list, $in or $nin.
func (c *compiler) list(arr []any, field, what string) ([]operand, bool) {
	switch {
	case len(arr) == 0:
		c.fail(field, "%s must not be empty", what)
		return nil, false
	case len(arr) > MaxListLen:
		c.fail(field, "%s may hold at most %d values, not %d", what, MaxListLen, len(arr))
		return nil, false
	}
	out := make([]operand, len(arr))
	for i, v := range arr {
		out[i] = newOperand(v)
	}
	return out, true
}

// compileDocument parses and compiles a filters document. A nil result
// with no error is a filter that matches everything.
func compileDocument(raw json.RawMessage) (*group, error) {
	doc, err := parseJSON(raw)
	if err != nil {
		return nil, hookd.Invalid(hookd.FieldError{Field: "filters", Message: "must be a valid JSON object: " + err.Error()})
	}
	if doc == nil {
		return nil, nil // JSON null: no filters
	}
	obj, ok := doc.(object)
	if !ok {
		return nil, hookd.Invalid(hookd.FieldError{Field: "filters", Message: "must be a JSON object, not " + kindOf(doc).String()})
	}
	c := &compiler{}
	root := c.group(obj, "filters", 0)
	if c.keys > MaxKeys {
		c.fail("filters", "may hold at most %d keys in total, counting those inside $or/$and; it holds %d", MaxKeys, c.keys)
	}
	if len(c.details) > 0 {
		return nil, hookd.Invalid(c.details...)
	}
	if len(obj) == 0 {
		return nil, nil
	}
	return root, nil
}
